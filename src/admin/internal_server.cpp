#include "keygate/admin/internal_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace keygate::admin {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t max_body_bytes = 64 * 1024;  // internal API bodies are small JSON
constexpr auto io_timeout = std::chrono::seconds(10);

std::string error_json(std::string_view code, std::string_view message) {
  return std::string("{\"error\":\"") + std::string(code) + "\",\"message\":\"" + std::string(message) +
         "\"}";
}
}  // namespace

response json_response(const request& req, http::status status, std::string body) {
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

internal_server::internal_server() = default;

internal_server::~internal_server() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void internal_server::route(std::string path, handler h) {
  routes_.emplace_back(std::move(path), std::move(h));
}

void internal_server::listen(const tcp::endpoint& ep) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
}

void internal_server::start_thread() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("internal listener: unhandled exception: {}", e.what());
      }
    }
  });
}

void internal_server::stop() {
  asio::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    io_.stop();
  });
}

const handler* internal_server::find(const std::string& path) const {
  for (const auto& [p, h] : routes_) {
    if (p == path) return &h;
    if (!p.empty() && p.back() == '/' && path.compare(0, p.size(), p) == 0) return &h;
  }
  return nullptr;
}

asio::awaitable<void> internal_server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) break;
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> internal_server::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  caller_info caller;
  beast::error_code ec;
  const auto remote = stream.socket().remote_endpoint(ec);
  if (!ec) caller.client_ip = remote.address().to_string();
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body_bytes);
    stream.expires_after(io_timeout);
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec == http::error::end_of_stream || rec == asio::error::eof) break;
    response res;
    if (rec) {
      const bool too_big = rec == http::error::body_limit;
      request dummy;
      dummy.keep_alive(false);
      res = json_response(dummy, too_big ? http::status::payload_too_large : http::status::bad_request,
                          too_big ? error_json("body_too_large", "request body too large")
                                  : error_json("bad_request", "malformed request"));
    } else {
      const request& req = parser.get();
      std::string path(req.target().substr(0, req.target().find('?')));
      if (const handler* h = find(path)) {
        try {
          res = co_await (*h)(req, caller);
        } catch (const std::exception& e) {
          spdlog::error("internal handler {} failed: {}", path, e.what());
          res = json_response(req, http::status::internal_server_error,
                              error_json("internal_error", "internal error"));
        }
      } else {
        res = json_response(req, http::status::not_found, error_json("not_found", "no such endpoint"));
      }
    }
    stream.expires_after(io_timeout);
    const bool keep = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace keygate::admin

// keygate::admin internal listener — the operator/back-end API on its own port and thread
// (default 127.0.0.1:9901), never reachable through the public listener (SPEC §5).
//
// Routes are registered by (method, path) or path prefix; each handler gets the parsed request
// and returns a response. Handlers run on the internal thread and may co_await. Every response
// carries `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace keygate::admin {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct caller_info {
  std::string client_ip;
};

using handler = std::function<boost::asio::awaitable<response>(const request&, const caller_info&)>;

// A JSON response with the standard internal headers.
response json_response(const request& req, http::status status, std::string body);

class internal_server {
 public:
  internal_server();
  ~internal_server();

  // `path` exact, or a prefix when it ends with '/'. `methods` empty = any (the handler
  // decides, e.g. to answer 405 with Allow).
  void route(std::string path, handler h);
  void listen(const boost::asio::ip::tcp::endpoint& ep);  // throws on bind failure
  void start_thread();
  void stop();
  boost::asio::io_context& io() noexcept { return io_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  const handler* find(const std::string& path) const;

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::vector<std::pair<std::string, handler>> routes_;
  std::thread thread_;
};

}  // namespace keygate::admin

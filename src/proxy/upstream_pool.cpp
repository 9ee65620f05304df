#include "keygate/proxy/upstream_pool.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace keygate::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::unique_ptr<http::byte_stream> upstream_pool::take(steady::time_point now) {
  while (!idle_.empty()) {
    auto e = std::move(idle_.back());
    idle_.pop_back();
    if (now - e.since < idle_timeout_ && !e.conn->idle_peer_gone()) return std::move(e.conn);
    e.conn->close();
  }
  return nullptr;
}

void upstream_pool::put(std::unique_ptr<http::byte_stream> conn, steady::time_point now) {
  if (idle_.size() >= max_idle_) {
    conn->close();
    return;
  }
  idle_.push_back({std::move(conn), now});
}

void upstream_pool::evict(steady::time_point now) {
  while (!idle_.empty() && now - idle_.front().since >= idle_timeout_) {
    idle_.front().conn->close();
    idle_.pop_front();
  }
}

upstream_target::upstream_target(const config::upstream& c, unsigned workers, obs::registry& metrics)
    : cfg(c) {
  // Idle upstream connections are dropped after 30 s: below the keep-alive timeout of common
  // servers (nginx 75 s, Node 5 s is the exception, handled by the liveness peek on take()).
  for (unsigned w = 0; w < workers; ++w)
    pools.push_back(std::make_unique<upstream_pool>(cfg.max_idle, std::chrono::seconds(30)));
  if (cfg.scheme == config::url_scheme::https) {
    tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                     asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (cfg.tls_verify) {
      tls->set_verify_mode(asio::ssl::verify_peer);
      if (!cfg.ca_file.empty())
        tls->load_verify_file(cfg.ca_file);
      else
        tls->set_default_verify_paths();
    } else {
      tls->set_verify_mode(asio::ssl::verify_none);
    }
  }
  latency = &metrics
                 .histograms("keygate_upstream_latency_seconds",
                             "Time from sending a request upstream to its response head", {"upstream"})
                 .with({cfg.name});
  auto& errors =
      metrics.counters("keygate_upstream_errors_total", "Upstream failures by kind", {"upstream", "kind"});
  connect_errors = &errors.with({cfg.name, "connect"});
  timeouts = &errors.with({cfg.name, "timeout"});
  bad_responses = &errors.with({cfg.name, "bad_response"});
}

asio::awaitable<result<std::unique_ptr<http::byte_stream>>> connect_upstream(
    upstream_target& target, http::byte_stream*& socket_slot) {
  const auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_unique<http::byte_stream>(tcp::socket(executor));
  socket_slot = conn.get();

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(target.cfg.host, ec);
  if (!ec) {
    auto [cec] =
        co_await conn->socket().async_connect(tcp::endpoint(address, target.cfg.port), tuple_awaitable);
    ec = cec;
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] =
        co_await resolver.async_resolve(target.cfg.host, std::to_string(target.cfg.port), tuple_awaitable);
    ec = rec;
    if (!ec) {
      auto [cec, ep] = co_await asio::async_connect(conn->socket(), results, tuple_awaitable);
      ec = cec;
    }
  }
  if (ec) {
    socket_slot = nullptr;
    co_return ec == asio::error::operation_aborted ? errc::upstream_timeout : errc::upstream_unavailable;
  }
  conn->socket().set_option(tcp::no_delay(true), ec);

  if (target.tls) {
    conn->enable_tls(*target.tls);
    auto* ssl = conn->tls()->native_handle();
    boost::system::error_code not_an_address;
    asio::ip::make_address(target.cfg.host, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(ssl, target.cfg.host.c_str());  // SNI for names only
    if (target.cfg.tls_verify)
      conn->tls()->set_verify_callback(asio::ssl::host_name_verification(target.cfg.host));
    const auto hec = co_await conn->handshake(asio::ssl::stream_base::client);
    if (hec) {
      socket_slot = nullptr;
      co_return hec == asio::error::operation_aborted ? errc::upstream_timeout : errc::upstream_unavailable;
    }
  }
  co_return std::move(conn);
}

}  // namespace keygate::proxy

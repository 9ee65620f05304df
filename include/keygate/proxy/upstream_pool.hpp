// keygate::proxy upstream connections: per-worker keep-alive pools and connection set-up
// (TCP connect, optional TLS with certificate and host-name verification).
//
// Threading: an `upstream_target` is shared by all workers (immutable after construction);
// `pools[w]` belongs to worker w and is only touched on that worker's thread, so the hot path
// takes no lock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/http/byte_stream.hpp"
#include "keygate/obs/metrics.hpp"

namespace keygate::proxy {

using steady = std::chrono::steady_clock;

class upstream_pool {
 public:
  upstream_pool(std::size_t max_idle, std::chrono::milliseconds idle_timeout)
      : max_idle_(max_idle), idle_timeout_(idle_timeout) {}
  // The most recently returned idle connection that is still usable, or nullptr. Every
  // candidate is probed (one non-blocking peek), also a hot one: besides a close or reset it
  // catches bytes the upstream sent after its last response (a body after a HEAD or 204, a
  // short Content-Length), which must never be read as the next client's response.
  std::unique_ptr<http::byte_stream> take(steady::time_point now);
  // Returns a connection after a complete exchange; closed when the pool is full.
  void put(std::unique_ptr<http::byte_stream> conn, steady::time_point now);
  // Drops connections idle longer than the idle timeout (called periodically by the worker).
  void evict(steady::time_point now);
  std::size_t idle() const noexcept { return idle_.size(); }

 private:
  struct entry {
    std::unique_ptr<http::byte_stream> conn;
    steady::time_point since;
  };
  std::deque<entry> idle_;
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
};

struct upstream_target {
  upstream_target(const config::upstream& cfg, unsigned workers, obs::registry& metrics);
  config::upstream cfg;
  std::unique_ptr<boost::asio::ssl::context> tls;     // https upstreams only
  std::vector<std::unique_ptr<upstream_pool>> pools;  // one per worker
  obs::histogram* latency;                            // response-head latency
  obs::counter* connect_errors;
  obs::counter* timeouts;
  obs::counter* bad_responses;
};

// Opens a new connection (and completes the TLS handshake for https). The caller bounds it
// with its deadline by cancelling `socket_slot` (set as soon as the socket exists).
// Errors: upstream_unavailable (refused, reset, TLS failure), upstream_timeout (cancelled by
// the caller's deadline — the caller decides which).
boost::asio::awaitable<result<std::unique_ptr<http::byte_stream>>> connect_upstream(
    upstream_target& target, http::byte_stream*& socket_slot);

}  // namespace keygate::proxy

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
  // The most recently returned idle connection within the idle timeout, or nullptr.
  // A candidate is probed for a close, reset or unsolicited bytes from the upstream (one
  // non-blocking peek) unless `may_retry` and it was returned less than `probe_after_idle` ago:
  // a request that can be retried on a fresh connection (idempotent, bodyless, first attempt)
  // skips the system call on a hot connection, where an upstream has no reason to close or to
  // speak first (idle-timeout closes and 408s come after seconds, when the probe runs again).
  std::unique_ptr<http::byte_stream> take(steady::time_point now, bool may_retry);
  static constexpr std::chrono::milliseconds probe_after_idle{500};
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
  std::unique_ptr<boost::asio::ssl::context> tls;  // https upstreams only
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

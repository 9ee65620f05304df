// keygate::cache redis client — the domain-level face of Redis for the auth path and the
// invalidation bus. No hiredis type appears here: the implementation (hiredis async attached to
// an Asio executor) lives in src/adapters/redis and is reached only through the factories at the
// bottom, which the composition root (src/app) calls. Core code holds `redis_client&`, so unit
// tests can substitute a fake without linking hiredis.
//
// Threading: a client is bound to one executor (a worker's single-threaded io_context). Every
// member function is called from that executor's thread; awaitables are awaited from coroutines
// running on it. Callbacks (`on_reconnect`) run on it too. `healthy()` may be read from any thread.
// A client is destroyed on its executor's thread or after its io_context stopped running, and
// before its io_context is destroyed; commands still in flight then complete with
// errc::cache_unavailable.
//
// Errors are values (keygate::errc), never exceptions:
//   cache_timeout      the command got no answer within `timeout` (the connection may be fine)
//   cache_unavailable  not connected, breaker open, or the connection was lost mid-command —
//                      returned without waiting whenever that is already known
// A Redis error reply ("-ERR ...", "-WRONGTYPE ...") is an answer: a redis_reply of type error.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"

namespace keygate::obs {
class registry;
}

namespace keygate::cache {

// A Redis (RESP2) reply, deep-copied out of hiredis: owns all of its data.
struct redis_reply {
  enum class type { nil, string, integer, status, error, array };
  type kind = type::nil;
  std::string str;                    // string (binary-safe), status text, or error text
  long long integer = 0;              // integer replies
  std::vector<redis_reply> elements;  // array replies

  bool is_nil() const noexcept { return kind == type::nil; }
  bool is_error() const noexcept { return kind == type::error; }
  bool is_ok() const noexcept { return kind == type::status && str == "OK"; }
};

// Where and how to connect; built from config by make_redis_options or by tests directly.
struct redis_options {
  std::string host = "127.0.0.1";  // name or address literal (IPv6 without brackets)
  std::uint16_t port = 6379;
  int db = 0;                             // SELECTed on every (re)connect when non-zero
  std::chrono::milliseconds timeout{50};  // deadline of every command and of the probe PING
  std::chrono::milliseconds connect_timeout{
      1000};                                       // resolve + TCP connect + SELECT (not on any request path)
  std::chrono::milliseconds backoff_initial{100};  // reconnect delay after a failure, doubled ...
  std::chrono::milliseconds backoff_max{5000};     // ... up to this cap, reset once connected
  int breaker_threshold = 3;  // consecutive timeouts that open the breaker (and drop the connection)
};

// Parses "redis://host[:port][/db]" (host may be "[v6-literal]"); errc::invalid_argument otherwise.
result<redis_options> parse_redis_url(std::string_view url);
// parse_redis_url(cfg.url) with cfg.timeout applied.
result<redis_options> make_redis_options(const config::redis& cfg);

// One connection to Redis for ordinary commands. Lifecycle: connects in the background as soon
// as it is created; a lost connection (EOF, reset, error) is re-established in the background
// with capped exponential backoff. Circuit breaker: `breaker_threshold` consecutive timeouts open
// it — the connection is dropped (so a frozen server cannot pile up commands) and every call fails
// fast with cache_unavailable until a fresh connection answers a PING within `timeout` (the
// half-open probe), which closes it again.
class redis_client {
 public:
  virtual ~redis_client() = default;

  // Sends argv (binary-safe; argv[0] is the command name) and waits for the reply, at most
  // `timeout`. Never throws; see the error contract above. Resumes on the awaiting coroutine's
  // executor (which must be the client's).
  virtual boost::asio::awaitable<result<redis_reply>> execute(std::vector<std::string> argv) = 0;

  // `fn` runs on the client's executor each time a connection is established after a previous
  // one was lost (or after the first attempts failed) — i.e. whenever this process may have
  // missed writes or messages while it could not reach Redis. Not called for an initial
  // connection that succeeds on its first attempt. Replaces any earlier callback. An exception
  // escaping `fn` is logged and swallowed.
  virtual void on_reconnect(std::function<void()> fn) = 0;

  // Connected and breaker closed: execute() will reach Redis. Any thread.
  virtual bool healthy() const noexcept = 0;
  // The first connection attempt has finished (connected or failed) or the client's supervisor ended.
  // Start-up waits for it so the first requests do not skip a Redis that is merely still being
  // dialled. Any thread.
  virtual bool settled() const noexcept = 0;
};

// Builds an argv from strings, string views and literals: `co_await c.execute(redis_command("GET", key))`.
// Prefer it to a braced list inside co_await: GCC 12 rejects a braced list of std::string built
// from literals there ("array used as initializer"), since its backing array lives across the
// suspension.
template <class... Args>
std::vector<std::string> redis_command(Args&&... args) {
  std::vector<std::string> argv;
  argv.reserve(sizeof...(Args));
  (argv.emplace_back(std::forward<Args>(args)), ...);
  return argv;
}

// PUBLISH on `client`; the reply's integer is the number of receivers (of this Redis node).
inline boost::asio::awaitable<result<redis_reply>> publish(redis_client& client, std::string channel,
                                                           std::string message) {
  return client.execute({"PUBLISH", std::move(channel), std::move(message)});
}

// Metrics (declared on `metrics` on first use, shared by all clients of the process):
//   keygate_dependency_errors_total{dependency="redis",kind="timeout|unavailable|error"}
//     (kind=error counts Redis error replies)
//   keygate_redis_breaker_open   gauge: clients currently not serving (disconnected or breaker open)
//   keygate_redis_reconnects_total  counter: connections re-established after a loss/failure
// `metrics` must outlive the client.
std::unique_ptr<redis_client> make_redis_client(boost::asio::any_io_executor executor, redis_options options,
                                                obs::registry& metrics);

}  // namespace keygate::cache

// keygate::redis::redis_connection — one hiredis async context driven by an Asio executor.
// The only file pair that touches hiredis's connection and event hooks; redis_client and
// redis_subscriber build reconnect and breaker policy on top of it.
//
// Event integration: hiredis's ev.addRead/delRead/addWrite/delWrite/cleanup hooks arm and disarm
// `async_wait`s on a posix::stream_descriptor that borrows hiredis's fd. The descriptor never
// owns the fd: cleanup (called by hiredis right before it frees the context and closes the fd)
// releases it, which also deregisters it from the reactor and aborts pending waits.
//
// Lifetime: the context is freed exactly once — by hiredis itself (EOF, socket error, failed
// connect; it then calls cleanup) or by close(). After that, `open()` is false and wait_closed()
// returns. The connection object outlives every armed wait (handlers hold a shared_ptr), so a
// late event never touches freed memory. Pending command callbacks run with a null reply when the
// context is freed; hiredis guarantees every ordinary command callback runs exactly once.
//
// Threading: everything on `executor` (one thread). close() must not be called from inside a
// hiredis callback (nothing here does: callbacks only record results and cancel timers).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "keygate/cache/redis_client.hpp"
#include "keygate/core/errc.hpp"

extern "C" {
struct redisAsyncContext;
struct redisReply;
}

namespace keygate::redis {

// hiredis's reply callback type, spelled without including hiredis here.
using reply_fn = void (*)(redisAsyncContext*, void* reply, void* privdata);

// Deep copy of a hiredis reply (call inside the callback: hiredis frees it afterwards).
cache::redis_reply copy_reply(const redisReply& r);

class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  static std::shared_ptr<redis_connection> create(boost::asio::any_io_executor executor);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Resolves host (asynchronously), connects without blocking and waits for the TCP handshake,
  // all within `deadline`. Called once per object. Errors: errc::cache_timeout (deadline),
  // errc::cache_unavailable (refused, unresolvable, closed meanwhile).
  boost::asio::awaitable<boost::system::error_code> connect(const std::string& host, unsigned short port,
                                                            std::chrono::milliseconds deadline);

  // Queues a command; `fn(ctx, reply, privdata)` runs inside hiredis later (reply null when the
  // connection is lost or closed). false (and `fn` never runs) when closed or hiredis refused it.
  bool send(const std::vector<std::string>& argv, reply_fn fn, void* privdata);

  // Sends argv and waits for its reply at most `deadline`: cache_timeout on expiry (the
  // connection stays open; a late reply is discarded), cache_unavailable when not open or lost.
  // Caller cancellation is reported as cache_timeout.
  boost::asio::awaitable<result<cache::redis_reply>> command(std::vector<std::string> argv,
                                                             std::chrono::milliseconds deadline);

  // Turns on TCP keepalive (hiredis defaults) so a silently dead peer is noticed eventually.
  void enable_keepalive();

  // Frees the context (pending callbacks run with a null reply); idempotent.
  void close();
  bool open() const noexcept { return ac_ != nullptr && connected_ && !closing_; }
  // Completes once the context is gone (immediately if it already is).
  boost::asio::awaitable<void> wait_closed();
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  explicit redis_connection(boost::asio::any_io_executor executor);

  // hiredis hooks (privdata / ac->data is `this`).
  static void on_add_read(void* self);
  static void on_del_read(void* self);
  static void on_add_write(void* self);
  static void on_del_write(void* self);
  static void on_cleanup(void* self);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);

  void arm_read();
  void arm_write();
  void context_gone();

  boost::asio::any_io_executor executor_;
  boost::asio::posix::stream_descriptor descriptor_;
  boost::asio::steady_timer connect_signal_;  // cancelled by on_connect
  boost::asio::steady_timer closed_signal_;   // cancelled when the context is gone
  redisAsyncContext* ac_ = nullptr;
  bool connected_ = false, connect_failed_ = false, closing_ = false;
  bool want_read_ = false, want_write_ = false, read_armed_ = false, write_armed_ = false;
};

}  // namespace keygate::redis

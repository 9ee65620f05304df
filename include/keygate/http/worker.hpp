// keygate::http::worker — one event loop thread of the public listener: its own io_context,
// its own SO_REUSEPORT acceptor, its own sessions and upstream pools (DESIGN: "a connection
// lives on one worker"). Other threads talk to a worker only by posting to its io_context.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <thread>

#include "keygate/http/io_buffer.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/proxy/auth_phase.hpp"
#include "keygate/proxy/runtime.hpp"

namespace keygate::http {

class session;

// What every worker shares (owned by the gateway, outlives the workers).
struct worker_shared {
  explicit worker_shared(obs::registry& m) : metrics(m) {}
  obs::registry& metrics;
  proxy::auth_phase* auth = nullptr;                // nullptr: no credential store configured
  boost::asio::ssl::context* server_tls = nullptr;  // public listener TLS, or nullptr
  std::atomic<std::size_t> connections{0};          // across all workers, for max_connections
  obs::gauge* active_connections = nullptr;
  obs::counter_family* framing_rejections = nullptr;
  obs::counter* rejected_connections = nullptr;  // over max_connections
};

class worker {
 public:
  worker(unsigned index, worker_shared& shared, std::shared_ptr<const proxy::runtime> rt);
  ~worker();

  // Binds the acceptor (SO_REUSEPORT, so every worker accepts on the same port). Throws on
  // bind failure (start-up time).
  void listen(const boost::asio::ip::tcp::endpoint& ep);
  // Runs the worker's loop (timers, Redis connects) without taking connections yet; the kernel
  // queues them on the bound socket until start_accepting() (thread-safe) begins the accept loop.
  void start_thread();
  void start_accepting();
  void join();

  // Thread-safe: posted to the worker's loop.
  void update_runtime(std::shared_ptr<const proxy::runtime> rt);
  void begin_drain();  // stop accepting; close idle connections; finish in-flight ones
  void stop();         // abort everything (after the drain timeout)
  std::size_t live_sessions() const noexcept { return live_.load(std::memory_order_relaxed); }

  // Used by sessions, on the worker's thread only.
  boost::asio::io_context& io() noexcept { return io_; }
  unsigned index() const noexcept { return index_; }
  const std::shared_ptr<const proxy::runtime>& runtime() const noexcept { return runtime_; }
  bool draining() const noexcept { return draining_; }
  worker_shared& shared() noexcept { return shared_; }
  buffer_cache& buffers() noexcept { return buffers_; }
  void attach(session* s) noexcept;
  void detach(session* s) noexcept;

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> sweep_loop();

  unsigned index_;
  worker_shared& shared_;
  buffer_cache buffers_{64};  // before io_: sessions destroyed with io_ give their buffers back
  // Hint 1 (one thread runs it), not UNSAFE_IO: a reload can destroy an upstream target, and
  // with it other workers' pooled sockets, on whichever thread drops the last reference.
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  boost::asio::steady_timer sweep_timer_{io_};
  std::shared_ptr<const proxy::runtime> runtime_;
  bool draining_ = false;
  session* sessions_ = nullptr;  // intrusive list head
  std::atomic<std::size_t> live_{0};
  std::thread thread_;
};

}  // namespace keygate::http

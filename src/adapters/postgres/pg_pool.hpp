// keygate::postgres::pg_pool — libpqxx is blocking, so every query runs here: a bounded queue,
// N threads, one connection per thread (pg_worker), and a watchdog enforcing keygate's own
// per-query deadline (query_timeout).
//
// Why a watchdog: libpq's socket options do not fire when the server is frozen (SIGSTOP) on
// loopback, so a blocked thread is unblocked by shutting its socket down; it then reconnects on
// its next job. Connects poll with the same deadline (deadline_connect in pg_pool.cpp).
//
// Threads: jobs run on pool threads; the watchdog runs on its own thread and also fails jobs that
// waited in the queue past their deadline (they never run). Nothing here throws to callers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keygate/core/errc.hpp"
#include "shared/job_queue.hpp"

namespace pqxx {
class connection_base;
}

namespace keygate::postgres {

using steady = std::chrono::steady_clock;

struct pool_options {
  std::string url;
  unsigned threads = 4;
  std::chrono::milliseconds query_timeout{500};
  std::size_t max_queue = 1024;  // waiting jobs beyond this fail fast (store_overloaded)
};

// One pool thread's connection and deadline. Used only on its own thread, except the
// watchdog's expire() (under mu_).
class pg_worker {
 public:
  explicit pg_worker(const pool_options& o);
  ~pg_worker();

  // The connection, (re)connecting first if needed within the armed deadline.
  // Throws pqxx::broken_connection (or connect_timeout) on failure.
  pqxx::connection_base& connection();
  // Arms the deadline for the next blocking step (now + query_timeout, or `until` if earlier).
  void arm(steady::time_point until = steady::time_point::max());
  void disarm() noexcept { deadline_ns_.store(0, std::memory_order_release); }
  // The last armed deadline expired (the watchdog shut the socket down, or a connect timed out).
  bool timed_out() const noexcept { return timed_out_.load(std::memory_order_acquire); }
  // The current exception as an errc; marks the connection for reset when it is no longer usable.
  errc map_current_exception() noexcept;
  // Drops the connection if an error left it unusable; call with no transaction open on it.
  void reset_if_broken() noexcept;

  // Watchdog side: shuts the socket down if the armed deadline has passed.
  void expire_if_late(steady::time_point now) noexcept;

 private:
  void drop() noexcept;

  const pool_options& options_;
  std::unique_ptr<pqxx::connection_base> conn_;
  std::atomic<std::int64_t> deadline_ns_{0};  // steady ns; 0 = disarmed
  std::atomic<bool> timed_out_{false};
  bool broken_ = false;
  std::mutex mu_;  // guards socket_ against the watchdog
  int socket_ = -1;
};

class pg_pool {
 public:
  // A job runs on a pool thread with that thread's worker, or is called with an error (never run):
  // store_timeout (waited past its deadline in the queue) or store_unavailable (pool stopping).
  using job = adapters::job_queue<pg_worker>::job;

  explicit pg_pool(pool_options o);
  ~pg_pool();
  pg_pool(const pg_pool&) = delete;
  pg_pool& operator=(const pg_pool&) = delete;

  // Queues `j`; false when the queue is full (the caller fails fast with store_overloaded).
  // `queue_deadline`: the job fails with store_timeout if it has not started by then.
  bool try_submit(job j, steady::time_point queue_deadline);
  // The worker of the calling pool thread, or nullptr on any other thread.
  static pg_worker* current() noexcept;
  const pool_options& options() const noexcept { return options_; }

 private:
  void thread_main(pg_worker& w);
  void watchdog_main();

  pool_options options_;
  adapters::job_queue<pg_worker> queue_;
  std::vector<std::unique_ptr<pg_worker>> workers_;
  std::vector<std::thread> threads_;
  std::thread watchdog_;
  std::mutex watchdog_mu_;  // guards watchdog_stop_
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ = false;
};

}  // namespace keygate::postgres

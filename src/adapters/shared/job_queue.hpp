// keygate::adapters::job_queue — the bounded FIFO in front of a blocking store's threads
// (sqlite::lane, postgres::pg_pool): jobs wait here with a start deadline, and each thread serves
// them with its own resource (its database connection).
//
// A job is called exactly once: with the serving thread's resource, or with an error and never
// run — store_timeout (still waiting at its deadline: checked when a thread takes it, and by
// expire_waiting() for pools whose watchdog cannot wait for a free thread) or store_unavailable
// (the queue stopped before a thread took it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "keygate/core/errc.hpp"

namespace keygate::adapters {

template <class Resource>
class job_queue {
 public:
  using clock = std::chrono::steady_clock;
  using job = std::function<void(result<Resource*>)>;

  explicit job_queue(std::size_t max_waiting) : max_waiting_(max_waiting) {}
  job_queue(const job_queue&) = delete;
  job_queue& operator=(const job_queue&) = delete;

  // Queues `j`; false when the queue is full or stopped (the caller fails fast with
  // store_overloaded).
  bool try_submit(job j, clock::time_point start_deadline) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || waiting_.size() >= max_waiting_) return false;
      waiting_.push_back(queued{std::move(j), start_deadline});
    }
    cv_.notify_one();
    return true;
  }

  // Serves jobs on the calling thread with `r` until stop(); `after(r)` runs after each job that
  // ran (e.g. to reset a connection an error left unusable).
  template <class After>
  void serve(Resource& r, After after) {
    for (;;) {
      queued q;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
        if (stopping_) return;
        q = std::move(waiting_.front());
        waiting_.pop_front();
      }
      if (clock::now() >= q.deadline) {
        q.run(errc::store_timeout);
        continue;
      }
      q.run(&r);
      after(r);
    }
  }

  // Fails the jobs still waiting at their deadline (called by a watchdog thread).
  void expire_waiting(clock::time_point now) {
    std::vector<job> expired;
    {
      std::lock_guard lock(mu_);
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (now >= it->deadline) {
          expired.push_back(std::move(it->run));
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& j : expired) j(errc::store_timeout);
  }

  // Makes every serve() return (after its current job); later submissions are refused.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

  // After stop() and once the serving threads have returned: fails what is still waiting.
  void fail_waiting() {
    std::deque<queued> left;
    {
      std::lock_guard lock(mu_);
      left.swap(waiting_);
    }
    for (auto& q : left) q.run(errc::store_unavailable);
  }

 private:
  struct queued {
    job run;
    clock::time_point deadline;
  };

  const std::size_t max_waiting_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<queued> waiting_;
  bool stopping_ = false;
};

}  // namespace keygate::adapters

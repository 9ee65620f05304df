// keygate::sqlite::lane — a bounded queue served by N threads, each with its own connection.
// sqlite_store runs two lanes: one writer thread (SQLite admits one writer at a time, so writes
// queue here instead of spinning on the file lock) and a few reader threads for the data plane's
// lookups (WAL: readers never wait for the writer).
//
// A job runs on a lane thread with that thread's connection, or is called with an error and never
// runs: store_timeout (waited in the queue past its deadline; checked when a thread takes it, which
// is bounded because every statement has a deadline) or store_unavailable (lane stopping).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sqlite/sqlite_connection.hpp"

namespace keygate::sqlite {

class lane {
 public:
  using job = std::function<void(result<connection*>)>;

  lane(const sqlite_options& o, connection::role r, unsigned threads);
  ~lane();
  lane(const lane&) = delete;
  lane& operator=(const lane&) = delete;

  // Queues `j`; false when the queue is full (the caller fails fast with store_overloaded).
  bool try_submit(job j, steady::time_point queue_deadline);
  // The connection of the calling lane thread (any lane), or nullptr on any other thread.
  static connection* current() noexcept;

 private:
  struct queued {
    job run;
    steady::time_point deadline;
  };
  void thread_main(connection& c);

  const sqlite_options& options_;
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<queued> queue_;
  bool stopping_ = false;
};

}  // namespace keygate::sqlite

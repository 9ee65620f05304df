// keygate::sqlite::lane — a bounded queue served by N threads, each with its own connection.
// sqlite_store runs two lanes: one writer thread (SQLite admits one writer at a time, so writes
// queue here instead of spinning on the file lock) and a few reader threads for the data plane's
// lookups (WAL: readers never wait for the writer).
//
// A job runs on a lane thread with that thread's connection, or is called with an error and never
// runs: store_timeout (waited in the queue past its deadline; checked when a thread takes it, which
// is bounded because every statement has a deadline) or store_unavailable (lane stopping).
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "shared/job_queue.hpp"
#include "sqlite/sqlite_connection.hpp"

namespace keygate::sqlite {

class lane {
 public:
  using job = adapters::job_queue<connection>::job;

  lane(const sqlite_options& o, connection::role r, unsigned threads);
  ~lane();
  lane(const lane&) = delete;
  lane& operator=(const lane&) = delete;

  // Queues `j`; false when the queue is full (the caller fails fast with store_overloaded).
  bool try_submit(job j, steady::time_point queue_deadline) {
    return queue_.try_submit(std::move(j), queue_deadline);
  }
  // The connection of the calling lane thread (any lane), or nullptr on any other thread.
  static connection* current() noexcept;

 private:
  void thread_main(connection& c);

  adapters::job_queue<connection> queue_;
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<std::thread> threads_;
};

}  // namespace keygate::sqlite

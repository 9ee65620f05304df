// keygate::sqlite::thread_readers — one read-only connection per calling thread, for the data
// plane's point lookups (find_key_by_hash / find_session_by_hash on a gateway worker).
//
// Why: a lookup is a B-tree read of a few pages that SQLite and the OS already hold in memory
// (a few µs); handing it to a reader-lane thread and resuming the worker afterwards costs more
// than the read itself (two thread wake-ups and context switches per lookup). In WAL mode a
// reader never waits for the writer, and these connections have busy_timeout 0: a read that
// would have to wait for a lock (WAL recovery after a crash, another process holding the
// database in exclusive mode) fails at once with SQLITE_BUSY and the caller sends it to the
// reader lane instead, so a worker never sleeps on a lock.
//
// Threads: for_this_thread() returns a connection that only the calling thread ever uses. The
// connections live as long as this object; callers must not use them after it is destroyed
// (the store outlives the workers that call it).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sqlite/sqlite_connection.hpp"

namespace keygate::sqlite {

class thread_readers {
 public:
  explicit thread_readers(const sqlite_options& store_options);
  thread_readers(const thread_readers&) = delete;
  thread_readers& operator=(const thread_readers&) = delete;

  connection& for_this_thread();

 private:
  sqlite_options options_;  // the store's, with busy_timeout 0
  std::uint64_t instance_;  // never reused: thread-local lookups cannot reach a dead instance
  std::mutex mu_;           // guards connections_ (opening; never the lookups themselves)
  std::vector<std::unique_ptr<connection>> connections_;
};

}  // namespace keygate::sqlite

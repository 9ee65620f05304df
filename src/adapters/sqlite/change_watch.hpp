// keygate::sqlite::change_watch — counts the changes other connections commit to the database
// (another keygate process, the CLI, this process's writer), for store::key_store::changes_seen.
//
// A check runs `PRAGMA data_version` on a connection of its own: the value changes whenever any
// *other* connection has committed since the previous check (SQLite's contract), so each check
// that sees a new value adds one to the count. Checks read the WAL index in shared memory (a few
// µs) and run at most when a caller needs a newer one than the last; callers on several worker
// threads share them (a mutex: the connection is not shared; a check never waits for it).
//
// The one write made on this connection is keygate's own last_used_at batch (write_unseen): no
// cache entry's decision depends on last_used_at, and under traffic a batch commits about once a
// second, which would otherwise send every entry back to the store at each expiry.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "sqlite/sqlite_connection.hpp"

namespace keygate::sqlite {

class change_watch {
 public:
  explicit change_watch(const sqlite_options& store_options);
  change_watch(const change_watch&) = delete;
  change_watch& operator=(const change_watch&) = delete;

  // The count, from a check that started at or after `not_before` (made now if the last one is
  // older). nullopt when a check fails (busy, I/O error): the caller reads the store instead.
  std::optional<std::uint64_t> changes_seen(steady::time_point not_before);
  // Runs `work` (a write transaction on the given connection) so that its commit is not counted.
  // Checks meanwhile report nullopt instead of waiting. `busy_timeout`: how long the write may wait
  // for another connection's write lock (checks themselves never wait).
  result<void> write_unseen(std::chrono::milliseconds busy_timeout,
                            const std::function<result<void>(connection&)>& work);

 private:
  sqlite_options options_;  // the store's, with busy_timeout 0: a check never waits on a lock
  std::mutex mu_;
  connection conn_;
  std::optional<std::int64_t> data_version_;  // at the last successful check
  std::uint64_t changes_ = 0;
  steady::time_point checked_at_ = steady::time_point::min();  // when that check started
};

}  // namespace keygate::sqlite

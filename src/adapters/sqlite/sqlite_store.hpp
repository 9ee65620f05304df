// keygate::sqlite::sqlite_store — the embedded (SQLite) implementation of adapters::store_backend:
// store::key_store (async lookups), store::management_store (transactions) and
// store::blocking_runner, plus migrations (sqlite_migrator.hpp), with the same contracts and
// errors as the Postgres adapter.
//
// Threads: data-plane lookups run on the calling thread with its own read-only connection
// (thread_readers.hpp). Everything else is blocking work on two lanes (sqlite_lane.hpp): one
// writer thread for transactions, run() work, last_used writes and migrations (SQLite admits one
// writer; every transaction is BEGIN IMMEDIATE, so it holds the write lock from its first
// statement — also against other processes, e.g. the CLI next to `serve`), and `readers` threads
// for blocking lookups and for data-plane lookups that would wait for a lock. Each thread owns
// one sqlite3 connection. The database runs in WAL mode with synchronous=NORMAL and foreign keys
// on. No sqlite3 type or failure crosses this header.
#pragma once

#include <memory>

#include "keygate/config/config.hpp"
#include "sqlite/change_watch.hpp"
#include "sqlite/sqlite_connection.hpp"
#include "sqlite/sqlite_lane.hpp"
#include "sqlite/thread_readers.hpp"
#include "store_backend.hpp"

namespace keygate::sqlite {

class sqlite_store final : public adapters::store_backend {
 public:
  explicit sqlite_store(sqlite_options o);
  // From the `store.sqlite` config section (path, reader threads, deadlines).
  static std::unique_ptr<sqlite_store> open(const config::sqlite& cfg);

  boost::asio::awaitable<result<store::key_record>> find_key_by_hash(std::string sha256_hex) override;
  boost::asio::awaitable<result<store::session_record>> find_session_by_hash(std::string sha256_hex) override;
  boost::asio::awaitable<result<void>> touch_last_used(std::vector<std::string> key_ids,
                                                       store::time_point now) override;
  // Commits by other connections (another process, this store's writer), counted by
  // change_watch; lets the cache keep entries whose state cannot have changed.
  std::optional<std::uint64_t> changes_seen(steady::time_point not_before) override {
    return changes_.changes_seen(not_before);
  }
  boost::asio::awaitable<result<void>> run(std::function<result<void>()> work) override;
  result<void> transact(const std::function<result<void>(store::store_tx&)>& work) override;
  adapters::migrate_report migrate() override;
  result<std::vector<adapters::migration_state>> migration_status(std::string& message) override;
  std::string_view kind() const noexcept override { return "sqlite"; }

  // Blocking lookup (CLI, tests, benchmarks): same lane, deadline and errors as the async one.
  result<store::key_record> find_key_by_hash_sync(const std::string& sha256_hex);
  // Runs `work` on the writer thread with its connection (migrations, tests). `work` arms the
  // deadline itself and maps its own failures; blocks the caller until it returned.
  using raw_work = std::function<result<void>(connection&)>;
  result<void> with_writer(const raw_work& work);
  const sqlite_options& options() const noexcept { return options_; }

 private:
  template <class T>
  result<T> run_blocking(lane& l, std::function<result<T>(connection&)> f);
  template <class T>
  boost::asio::awaitable<result<T>> run_async(lane& l, std::function<result<T>(connection&)> f);
  template <class T>
  boost::asio::awaitable<result<T>> find_by_hash(std::string_view sql, std::string sha256_hex,
                                                 row_mapper<T> from_row);
  // Runs `body` inside BEGIN IMMEDIATE … COMMIT on `c`; rolls back on error (returned as errc).
  result<void> in_write_transaction(connection& c, const std::function<result<void>()>& body);

  sqlite_options options_;
  lane writer_;
  lane readers_;
  thread_readers inline_readers_;  // the data plane's lookups, on the calling thread
  change_watch changes_;
};

}  // namespace keygate::sqlite

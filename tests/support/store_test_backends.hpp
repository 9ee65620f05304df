// Store backends for the store contract suite: each gives stores (adapters::store_backend) on a
// private database of its own, plus raw SQL on a separate connection for assertions.
//  * postgres: a temporary database through $KEYGATE_TEST_PG_URL (skips without it);
//  * sqlite: a temporary file (needs no service, never skips).
#pragma once

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "postgres/pg_store.hpp"
#include "sqlite/sqlite_store.hpp"
#include "store_backend.hpp"
#include "support/pg_test_db.hpp"

namespace keygate::test {

class store_test_backend {
 public:
  virtual ~store_test_backend() = default;
  // Empty when usable; otherwise why the tests on this backend skip.
  virtual std::string skip_reason() const = 0;
  // A store on this backend's database: `threads` lookup threads, `timeout` per statement/queue
  // wait, `max_queue` waiting jobs.
  virtual std::unique_ptr<adapters::store_backend> open(unsigned threads, std::chrono::milliseconds timeout,
                                                        std::size_t max_queue) = 0;
  // First column of the first row of `sql` on a separate connection (throws on SQL errors).
  virtual std::int64_t scalar(const std::string& sql) = 0;
  virtual void exec(const std::string& sql) = 0;
};

class postgres_test_backend final : public store_test_backend {
 public:
  postgres_test_backend() {
    if (auto url = test_pg_url()) db_ = std::make_unique<temp_database>(*url);
  }
  std::string skip_reason() const override {
    if (!db_) return "KEYGATE_TEST_PG_URL not set";
    return db_->ok() ? "" : "cannot create a test database";
  }
  std::unique_ptr<adapters::store_backend> open(unsigned threads, std::chrono::milliseconds timeout,
                                                std::size_t max_queue) override {
    return std::make_unique<postgres::pg_store>(
        postgres::pool_options{db_->url(), threads, timeout, max_queue});
  }
  std::int64_t scalar(const std::string& sql) override {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<std::int64_t>();
  }
  void exec(const std::string& sql) override {
    pqxx::connection c(db_->url());
    pqxx::nontransaction(c).exec(sql);
  }

 private:
  std::unique_ptr<temp_database> db_;
};

// A private database file in a temporary directory, removed with its WAL files at the end.
class sqlite_test_backend final : public store_test_backend {
 public:
  sqlite_test_backend() {
    char tmpl[] = "/tmp/kg-sqlite.XXXXXX";
    if (::mkdtemp(tmpl)) dir_ = tmpl;
  }
  ~sqlite_test_backend() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string skip_reason() const override { return dir_.empty() ? "cannot create a temp dir" : ""; }
  std::string path() const { return dir_ + "/keygate.db"; }
  std::unique_ptr<adapters::store_backend> open(unsigned threads, std::chrono::milliseconds timeout,
                                                std::size_t max_queue) override {
    sqlite::sqlite_options o;
    o.path = path();
    o.readers = threads;
    o.query_timeout = timeout;
    o.max_queue = max_queue;
    return std::make_unique<sqlite::sqlite_store>(std::move(o));
  }
  std::int64_t scalar(const std::string& sql) override {
    return with_db([&](sqlite3* db) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(sqlite3_errmsg(db));
      const std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
      sqlite3_finalize(s);
      return v;
    });
  }
  void exec(const std::string& sql) override {
    with_db([&](sqlite3* db) {
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        throw std::runtime_error(sqlite3_errmsg(db));
      return 0;
    });
  }

 private:
  std::int64_t with_db(const std::function<std::int64_t(sqlite3*)>& f) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path().c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      throw std::runtime_error("cannot open " + path());
    }
    sqlite3_busy_timeout(db, 5000);
    struct closer {
      sqlite3* db;
      ~closer() { sqlite3_close(db); }
    } c{db};
    return f(db);
  }
  std::string dir_;
};

inline std::unique_ptr<store_test_backend> make_store_test_backend(const std::string& kind) {
  if (kind == "postgres") return std::make_unique<postgres_test_backend>();
  return std::make_unique<sqlite_test_backend>();
}

}  // namespace keygate::test

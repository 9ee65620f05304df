// keygate::sqlite connection layer: one sqlite3* per pool thread (connection), prepared statements
// cached per connection (statement), and the one mapping from SQLite result codes to errc.
//
// Deadlines: a statement runs under the connection's armed deadline; a progress handler
// interrupts it when the deadline passes (SQLITE_INTERRUPT → errc::store_timeout). Waits for
// another process's write lock are bounded by busy_timeout (SQLITE_BUSY → errc::store_timeout).
//
// Inside the adapter, failures are thrown as sqlite_failure and mapped to errc at each public
// entry point (connection::map_current_exception); nothing here is visible outside adapters/sqlite.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keygate/core/errc.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace keygate::sqlite {

using steady = std::chrono::steady_clock;

struct sqlite_options;
// `o` with busy_timeout 0: for connections used on threads that must never sleep on a lock (a
// worker's reads, the change watch's checks); SQLITE_BUSY then fails at once.
sqlite_options never_waiting(const sqlite_options& o);

struct sqlite_options {
  std::string path;
  unsigned readers = 2;  // lookup threads; WAL lets them read while the one writer writes
  std::chrono::milliseconds query_timeout{1000};  // per statement, and per job waiting in a queue
  std::chrono::milliseconds busy_timeout{5000};   // wait for another process holding the write lock
  std::size_t max_queue = 1024;                   // per lane; beyond it jobs fail fast (overloaded)
};

// A failed SQLite call: the extended result code and SQLite's message.
struct sqlite_failure : std::exception {
  sqlite_failure(int c, std::string m) : code(c), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  int code;
  std::string message;
};

// SQLite extended result code → errc: unique/primary key → conflict, foreign key → not_found,
// check/not-null/too big → invalid_argument, interrupt (deadline) and busy/locked → store_timeout,
// cannot open / I/O / full / corrupt / read-only → store_unavailable, the rest → internal.
errc map_error(int extended_code) noexcept;

class connection;

// A cached prepared statement in use; reset (bindings cleared) when this handle is destroyed.
// Binding indexes are 1-based (SQL ?1..?n), column indexes 0-based (shared/row_mapping.hpp Row).
class statement {
 public:
  statement(connection& c, sqlite3_stmt* s) noexcept : conn_(c), stmt_(s) {}
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int i, std::string_view v);
  statement& bind(int i, std::int64_t v);
  statement& bind(int i, std::nullopt_t);
  template <class T>
  statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
  }
  // Binds ?1..?n in order.
  template <class... A>
  statement& bind_all(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  bool step();  // true: a row is available; false: done. Throws sqlite_failure.
  void run();   // steps to the end, ignoring rows
  int changes() const noexcept;

  // The Row of shared/row_mapping.hpp.
  std::string text(unsigned i) const;
  std::optional<std::string> opt_text(unsigned i) const;
  std::int64_t int64(unsigned i) const;
  std::optional<std::int64_t> opt_int64(unsigned i) const;
  bool boolean(unsigned i) const { return int64(i) != 0; }

 private:
  bool is_null(unsigned i) const;
  connection& conn_;
  sqlite3_stmt* stmt_;
};

// A row of a lookup → its record, given the hash that found it.
template <class T>
using row_mapper = T (*)(const statement&, const std::string&);

class connection {
 public:
  enum class role { writer, reader };
  connection(const sqlite_options& o, role r) noexcept : options_(o), role_(r) {}
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  role kind() const noexcept { return role_; }
  // Opens the database if needed (first use, or after an error left the handle unusable) and
  // applies the pragmas: WAL (writer), busy_timeout, synchronous=NORMAL, foreign_keys=ON,
  // query_only (readers). Throws sqlite_failure.
  sqlite3* handle();
  // `sql` must have static storage (queries.hpp): the prepared statement is cached by its address.
  statement prepare(std::string_view sql);
  // Runs one or more statements without results (BEGIN/COMMIT, migrations). Throws sqlite_failure.
  void exec(const std::string& sql);

  // Arms the statement deadline: now + query_timeout, or `until` if earlier.
  void arm(steady::time_point until = steady::time_point::max()) noexcept;
  void disarm() noexcept { deadline_ = steady::time_point::max(); }
  // The current exception as an errc; drops the handle when the error makes it unusable.
  errc map_current_exception() noexcept;

  [[noreturn]] void fail(int code);  // throws sqlite_failure with this handle's message

 private:
  static int on_progress(void* self) noexcept;
  void close() noexcept;

  const sqlite_options& options_;
  role role_;
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
  steady::time_point deadline_ = steady::time_point::max();
};

}  // namespace keygate::sqlite

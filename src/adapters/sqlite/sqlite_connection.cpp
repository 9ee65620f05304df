#include "sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <new>

namespace keygate::sqlite {

sqlite_options never_waiting(const sqlite_options& o) {
  auto copy = o;
  copy.busy_timeout = std::chrono::milliseconds(0);
  return copy;
}

errc map_error(int extended_code) noexcept {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return errc::conflict;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return errc::not_found;
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return errc::invalid_argument;
    case SQLITE_INTERRUPT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::store_timeout;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return errc::store_unavailable;
    default:
      return errc::internal;
  }
}

namespace {
// Errors after which the handle is reopened on the next job.
bool leaves_handle_unusable(int code) noexcept {
  switch (code & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}
}  // namespace

statement::~statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

statement& statement::bind(int i, std::string_view v) {
  if (const int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      rc != SQLITE_OK)
    conn_.fail(rc);
  return *this;
}

statement& statement::bind(int i, std::int64_t v) {
  if (const int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) conn_.fail(rc);
  return *this;
}

statement& statement::bind(int i, std::nullopt_t) {
  if (const int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) conn_.fail(rc);
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_.fail(rc);
}

void statement::run() {
  while (step()) {
  }
}

int statement::changes() const noexcept {
  return sqlite3_changes(sqlite3_db_handle(stmt_));
}

bool statement::is_null(unsigned i) const {
  return sqlite3_column_type(stmt_, static_cast<int>(i)) == SQLITE_NULL;
}

std::string statement::text(unsigned i) const {
  const auto col = static_cast<int>(i);
  const auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> statement::opt_text(unsigned i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::int64_t statement::int64(unsigned i) const {
  return sqlite3_column_int64(stmt_, static_cast<int>(i));
}

std::optional<std::int64_t> statement::opt_int64(unsigned i) const {
  if (is_null(i)) return std::nullopt;
  return int64(i);
}

connection::~connection() {
  close();
}

void connection::close() noexcept {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void connection::fail(int code) {
  const char* msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  if (db_) code = sqlite3_extended_errcode(db_);
  throw sqlite_failure(code, msg ? msg : "sqlite error");
}

sqlite3* connection::handle() {
  if (db_) return db_;
  // Process-wide, before the library initializes (the first open): no memory statistics, which
  // keygate never reads and which cost a global mutex around every SQLite allocation — a hot
  // path for the data plane's lookups. Fails harmlessly if SQLite was initialized already.
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
  (void)configured;
  // NOMUTEX: a connection is only ever used by its own pool thread.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (role_ == role::writer) flags |= SQLITE_OPEN_CREATE;  // readers need an existing database
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(options_.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int code = db ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close_v2(db);
    throw sqlite_failure(code, "cannot open " + options_.path + ": " + msg);
  }
  db_ = db;
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
  sqlite3_progress_handler(db_, 1000, &connection::on_progress, this);
  try {
    // WAL is persistent in the file; readers leave the journal mode to the writer.
    if (role_ == role::writer) exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
    if (role_ == role::reader) exec("PRAGMA query_only=ON");
  } catch (...) {
    close();
    throw;
  }
  return db_;
}

statement connection::prepare(std::string_view sql) {
  auto* db = handle();
  if (auto it = cache_.find(sql.data()); it != cache_.end()) return statement(*this, it->second);
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &s, nullptr);
  if (rc != SQLITE_OK) fail(rc);
  cache_.emplace(sql.data(), s);
  return statement(*this, s);
}

void connection::exec(const std::string& sql) {
  auto* db = handle();
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return;
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  throw sqlite_failure(sqlite3_extended_errcode(db), msg);
}

void connection::arm(steady::time_point until) noexcept {
  deadline_ = std::min(until, steady::now() + options_.query_timeout);
}

int connection::on_progress(void* self) noexcept {
  return steady::now() > static_cast<connection*>(self)->deadline_ ? 1 : 0;
}

errc connection::map_current_exception() noexcept {
  try {
    throw;
  } catch (const sqlite_failure& f) {
    if (leaves_handle_unusable(f.code)) close();
    return map_error(f.code);
  } catch (const std::bad_alloc&) {
    return errc::internal;
  } catch (...) {
    return errc::internal;
  }
}

}  // namespace keygate::sqlite

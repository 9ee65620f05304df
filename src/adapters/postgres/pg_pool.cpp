#include "postgres/pg_pool.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <pqxx/pqxx>

#include "postgres/queries.hpp"

namespace keygate::postgres {
namespace {

thread_local pg_worker* t_current = nullptr;
thread_local steady::time_point t_connect_deadline{};

std::int64_t to_ns(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The connect deadline passed (distinct from a refused or failed connection).
struct connect_timeout : pqxx::broken_connection {
  connect_timeout() : pqxx::broken_connection("connect timed out") {}
};

// libpqxx connection policy that connects with PQconnectStart/PQconnectPoll under
// t_connect_deadline, so a frozen server cannot hold a pool thread longer than the deadline.
class deadline_connect : public pqxx::connectionpolicy {
 public:
  explicit deadline_connect(const std::string& opts) : pqxx::connectionpolicy{opts} {}
  handle do_startconnect(handle orig) override {
    if (orig) return orig;
    PGconn* c = PQconnectStart(options().c_str());
    if (c == nullptr) throw std::bad_alloc();
    auto failed = [c](const char* why) {
      std::string msg = why;
      if (const char* e = PQerrorMessage(c); e && *e) msg = e;
      PQfinish(c);
      throw pqxx::broken_connection(msg);
    };
    if (PQstatus(c) == CONNECTION_BAD) failed("connection failed");
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED) failed("connection failed");
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(t_connect_deadline - steady::now());
      if (left.count() <= 0) {
        PQfinish(c);
        throw connect_timeout();
      }
      pollfd p{PQsocket(c), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count() + 1, 1000)));
      if (n < 0 && errno != EINTR) failed("poll failed");
      if (n > 0) st = PQconnectPoll(c);
    }
    return c;
  }
};
using deadline_connection = pqxx::basic_connection_base<deadline_connect>;

}  // namespace

pg_worker::pg_worker(const pool_options& o) : options_(o) {}
pg_worker::~pg_worker() {
  drop();
}

pqxx::connection_base& pg_worker::connection() {
  if (conn_ && (broken_ || timed_out())) drop();
  if (conn_) return *conn_;
  const auto ns = deadline_ns_.load(std::memory_order_acquire);
  t_connect_deadline =
      ns ? steady::time_point(std::chrono::nanoseconds(ns)) : steady::now() + options_.query_timeout;
  try {
    auto c = std::make_unique<deadline_connection>(options_.url);
    for (const auto& s : queries::all) c->prepare(std::string(s.name), std::string(s.sql));
    {
      std::lock_guard lock(mu_);
      socket_ = c->sock();
    }
    conn_ = std::move(c);
    broken_ = false;
  } catch (const connect_timeout&) {
    timed_out_.store(true, std::memory_order_release);
    throw;
  }
  return *conn_;
}

void pg_worker::arm(steady::time_point until) {
  timed_out_.store(false, std::memory_order_release);
  deadline_ns_.store(to_ns(std::min(until, steady::now() + options_.query_timeout)),
                     std::memory_order_release);
}

errc pg_worker::map_current_exception() noexcept {
  const bool late = timed_out();
  try {
    throw;
  } catch (const pqxx::broken_connection&) {
    broken_ = true;
    return late ? errc::store_timeout : errc::store_unavailable;
  } catch (const pqxx::in_doubt_error&) {
    broken_ = true;
    return late ? errc::store_timeout : errc::store_unavailable;
  } catch (const pqxx::unique_violation&) {
    return errc::conflict;
  } catch (const pqxx::foreign_key_violation&) {
    return errc::not_found;
  } catch (const pqxx::check_violation&) {
    return errc::invalid_argument;
  } catch (const pqxx::sql_error& e) {
    if (late) {
      broken_ = true;
      return errc::store_timeout;
    }
    const std::string state = e.sqlstate();
    // 08: connection exception, 57: operator intervention (shutdown), 53: insufficient resources,
    // 40: serialization failure/deadlock (retryable).
    if (state.empty() || state.rfind("08", 0) == 0 || state.rfind("57", 0) == 0) {
      broken_ = true;
      return errc::store_unavailable;
    }
    if (state.rfind("53", 0) == 0 || state.rfind("40", 0) == 0) return errc::store_unavailable;
    if (state == "22001" || state.rfind("22", 0) == 0) return errc::invalid_argument;
    return errc::internal;
  } catch (const std::bad_alloc&) {
    return errc::internal;
  } catch (const std::exception&) {
    if (late) {
      broken_ = true;
      return errc::store_timeout;
    }
    // libpqxx reports some connection losses as plain failures.
    if (conn_ && !conn_->is_open()) broken_ = true;
    return broken_ ? errc::store_unavailable : errc::internal;
  } catch (...) {
    return errc::internal;
  }
}

void pg_worker::reset_if_broken() noexcept {
  if (broken_ || timed_out()) drop();
  disarm();
  timed_out_.store(false, std::memory_order_release);
}

void pg_worker::drop() noexcept {
  {
    std::lock_guard lock(mu_);
    socket_ = -1;
  }
  try {
    conn_.reset();
  } catch (...) {
  }
  broken_ = false;
}

void pg_worker::expire_if_late(steady::time_point now) noexcept {
  const auto ns = deadline_ns_.load(std::memory_order_acquire);
  if (ns == 0 || to_ns(now) < ns) return;
  std::lock_guard lock(mu_);
  if (deadline_ns_.load(std::memory_order_acquire) != ns) return;  // re-armed meanwhile
  timed_out_.store(true, std::memory_order_release);
  deadline_ns_.store(0, std::memory_order_release);
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

pg_pool::pg_pool(pool_options o) : options_(std::move(o)), queue_(options_.max_queue) {
  if (options_.threads == 0) options_.threads = 1;
  for (unsigned i = 0; i < options_.threads; ++i) workers_.push_back(std::make_unique<pg_worker>(options_));
  for (auto& w : workers_) threads_.emplace_back([this, wp = w.get()] { thread_main(*wp); });
  watchdog_ = std::thread([this] { watchdog_main(); });
}

pg_pool::~pg_pool() {
  queue_.stop();
  {
    std::lock_guard lock(watchdog_mu_);
    watchdog_stop_ = true;
  }
  watchdog_cv_.notify_all();
  for (auto& t : threads_) t.join();
  watchdog_.join();
  queue_.fail_waiting();
}

bool pg_pool::try_submit(job j, steady::time_point queue_deadline) {
  return queue_.try_submit(std::move(j), queue_deadline);
}

pg_worker* pg_pool::current() noexcept {
  return t_current;
}

void pg_pool::thread_main(pg_worker& w) {
  t_current = &w;
  queue_.serve(w, [](pg_worker& served) { served.reset_if_broken(); });
}

// Every tick: fails queued jobs past their deadline (all threads may be stuck on a frozen
// server) and shuts down the sockets of queries past theirs.
void pg_pool::watchdog_main() {
  constexpr auto tick = std::chrono::milliseconds(5);
  std::unique_lock lock(watchdog_mu_);
  while (!watchdog_stop_) {
    watchdog_cv_.wait_for(lock, tick);
    lock.unlock();
    const auto now = steady::now();
    queue_.expire_waiting(now);
    for (auto& w : workers_) w->expire_if_late(now);
    lock.lock();
  }
}

}  // namespace keygate::postgres

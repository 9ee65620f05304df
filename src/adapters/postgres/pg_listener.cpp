#include "postgres/pg_listener.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>

#include "keygate/core/errc.hpp"

namespace keygate::postgres {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using steady = std::chrono::steady_clock;
using wait_type = asio::posix::stream_descriptor::wait_type;

// PQconnectStartParams with the URL expanded first, so the settings after it win: our
// application_name (to find the session in pg_stat_activity) and TCP keepalives (a silently dead
// peer is noticed in about a minute instead of the kernel's two hours).
PGconn* start_connect(const std::string& url) {
  const std::string app(listener_application_name);
  const char* const keywords[] = {"dbname",
                                  "application_name",
                                  "keepalives",
                                  "keepalives_idle",
                                  "keepalives_interval",
                                  "keepalives_count",
                                  nullptr};
  const char* const values[] = {url.c_str(), app.c_str(), "1", "30", "10", "3", nullptr};
  return PQconnectStartParams(keywords, values, 1);
}

// libpq prints server notices (e.g. "FATAL: terminating connection due to administrator
// command" before a pg_terminate_backend) to stderr by default; they go to the log instead.
void log_notice(void*, const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  spdlog::info("postgres listener: server notice: {}", m);
}

// libpq's last error, first line only (it names host and user, never the password).
std::string error_of(PGconn* c) {
  std::string e = c ? PQerrorMessage(c) : "out of memory";
  if (const auto nl = e.find('\n'); nl != std::string::npos) e.resize(nl);
  return e.empty() ? "connection failed" : e;
}

std::string target_of(PGconn* c) {
  return std::string(PQhost(c)) + ":" + PQport(c) + "/" + PQdb(c);
}

// LISTEN, and whether the triggers of migration 0002 exist (without them nothing is announced:
// worth a warning, not a failure — `keygate migrate` may simply not have run yet).
std::string listen_statement() {
  return "LISTEN " + std::string(notify_channel) +
         "; SELECT count(*) FROM pg_trigger WHERE tgname = 'api_keys_notify_update' AND NOT tgisinternal";
}

struct listen_outcome {
  bool ok = false;        // LISTEN succeeded
  bool triggers = false;  // the migration's triggers are installed
};

// Every result of listen_statement().
listen_outcome listen_results(PGconn* c) {
  listen_outcome out;
  int commands = 0;
  bool failed = false;
  while (PGresult* r = PQgetResult(c)) {
    const auto st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK)
      ++commands;
    else if (st == PGRES_TUPLES_OK)
      out.triggers = PQntuples(r) == 1 && std::string_view(PQgetvalue(r, 0, 0)) != "0";
    else
      failed = true;
    PQclear(r);
  }
  out.ok = commands == 1 && !failed;
  return out;
}

// The notifications read so far (on our channel), and any stray results discarded.
std::vector<std::string> take_notifications(PGconn* c) {
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(c)) {
    if (n->relname && std::string_view(n->relname) == notify_channel)
      out.emplace_back(n->extra ? n->extra : "");
    PQfreemem(n);
  }
  while (!PQisBusy(c)) {
    PGresult* r = PQgetResult(c);
    if (!r) break;
    PQclear(r);
  }
  return out;
}

class listener_state : public std::enable_shared_from_this<listener_state> {
 public:
  listener_state(asio::any_io_executor executor, listener_options options,
                 store::change_feed::handlers handlers, obs::registry& metrics)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        handlers_(std::move(handlers)),
        timer_(executor_),
        backoff_timer_(executor_),
        connected_gauge_(metrics
                             .gauges("keygate_pg_listener_connected",
                                     "1 while the Postgres LISTEN connection for change notifications is up",
                                     {})
                             .with({})),
        reconnects_(
            metrics
                .counters("keygate_pg_listener_reconnects_total",
                          "Postgres LISTEN connections re-established after a loss or failed attempts", {})
                .with({})) {}

  ~listener_state() { stop(); }

  void start() { asio::co_spawn(executor_, supervise(shared_from_this()), asio::detached); }

  // On the executor's thread, or after its io_context stopped running.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    set_connected(false);
    timer_.cancel();
    backoff_timer_.cancel();
    close();
  }

  bool connected() const noexcept { return connected_.load(std::memory_order_relaxed); }

 private:
  static asio::awaitable<void> supervise(std::shared_ptr<listener_state> self) {
    try {
      co_await self->supervise_loop();
    } catch (const std::exception& e) {
      spdlog::critical("postgres listener stopped: {}", e.what());
      self->set_connected(false);
    }
  }

  asio::awaitable<void> supervise_loop() {
    auto backoff = options_.backoff_initial;
    bool missed = false;  // notifications may have been missed since we last listened
    bool failing = false;
    while (!stopping_) {
      auto establishing = establish();
      const auto ec = co_await std::move(establishing);
      if (stopping_) break;
      if (ec) {
        const auto why = error_of(conn_);
        close();
        if (!failing)
          spdlog::warn("postgres listener: cannot LISTEN {} ({}: {}); retrying with backoff up to {} ms",
                       notify_channel, ec.message(), why, options_.backoff_max.count());
        failing = true;
        missed = true;
        co_await sleep(backoff);
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      set_connected(true);
      spdlog::info("postgres listener: listening on {} at {}", notify_channel, target_of(conn_));
      failing = false;
      backoff = options_.backoff_initial;
      if (missed) {
        reconnects_.inc();
        resync();
      }
      missed = false;

      auto listening = listen_loop();
      co_await std::move(listening);
      set_connected(false);
      if (stopping_) break;
      spdlog::warn(
          "postgres listener: connection lost ({}); reconnecting, the local credential cache is dropped "
          "once listening again",
          error_of(conn_));
      close();
      missed = true;
      co_await sleep(options_.backoff_initial);
    }
    close();
  }

  // Connect and LISTEN, all within connect_timeout.
  asio::awaitable<error_code> establish() {
    const auto deadline = steady::now() + options_.connect_timeout;
    conn_ = start_connect(options_.url);
    if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) co_return errc::store_unavailable;
    PQsetNoticeProcessor(conn_, &log_notice, nullptr);
    auto polling = PGRES_POLLING_WRITING;  // as libpq documents for the first round
    while (polling != PGRES_POLLING_OK) {
      if (polling == PGRES_POLLING_FAILED) co_return errc::store_unavailable;
      auto waiting = wait_socket(
          polling == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write, deadline);
      if (const auto ec = co_await std::move(waiting)) co_return ec;
      polling = PQconnectPoll(conn_);
    }
    const auto statement = listen_statement();
    if (PQsetnonblocking(conn_, 1) != 0 || PQsendQuery(conn_, statement.c_str()) != 1)
      co_return errc::store_unavailable;
    while (true) {
      const int flushed = PQflush(conn_);
      if (flushed < 0) co_return errc::store_unavailable;
      if (flushed == 0) break;
      auto waiting = wait_socket(wait_type::wait_write, deadline);
      if (const auto ec = co_await std::move(waiting)) co_return ec;
    }
    while (true) {
      if (PQconsumeInput(conn_) != 1) co_return errc::store_unavailable;
      if (!PQisBusy(conn_)) break;
      auto waiting = wait_socket(wait_type::wait_read, deadline);
      if (const auto ec = co_await std::move(waiting)) co_return ec;
    }
    const auto outcome = listen_results(conn_);
    if (!outcome.ok) co_return errc::store_unavailable;
    if (!outcome.triggers)
      spdlog::warn(
          "postgres listener: the triggers of migration 0002_invalidation_notify are missing (run `keygate "
          "migrate`): direct SQL edits are not announced until then");
    co_return error_code{};
  }

  // Delivers notifications until the connection fails or stop().
  asio::awaitable<void> listen_loop() {
    while (!stopping_) {
      // First round: notifications libpq already read together with the LISTEN reply.
      deliver(take_notifications(conn_));
      if (PQstatus(conn_) == CONNECTION_BAD) co_return;
      auto waiting = wait_socket(wait_type::wait_read, steady::time_point::max());
      if (co_await std::move(waiting)) co_return;
      if (PQconsumeInput(conn_) != 1) {
        deliver(take_notifications(conn_));  // whatever arrived before the connection failed
        co_return;
      }
    }
  }

  // Waits until libpq's socket is ready (or `deadline`: store_timeout; stop(): operation_aborted).
  // The descriptor borrows the fd for this wait only: libpq may replace the socket while it
  // connects, and it closes the socket itself.
  asio::awaitable<error_code> wait_socket(wait_type what, steady::time_point deadline) {
    const int fd = conn_ ? PQsocket(conn_) : -1;
    if (fd < 0) co_return errc::store_unavailable;
    error_code ec;
    socket_.emplace(executor_);
    socket_->assign(fd, ec);
    if (ec) {
      socket_.reset();
      co_return ec;
    }
    const auto wait_id = arm_deadline(deadline);
    co_await socket_->async_wait(what, asio::redirect_error(asio::use_awaitable, ec));
    const bool late = timed_out_ == wait_id;
    timer_.cancel();
    release_socket();
    if (stopping_) co_return asio::error::operation_aborted;
    if (late) co_return errc::store_timeout;
    co_return ec;
  }

  // Plain function (GCC 12: no lambda temporaries in coroutine bodies). Returns the id of this
  // wait; a late timer handler of an earlier wait never cancels a later one.
  std::uint64_t arm_deadline(steady::time_point deadline) {
    const auto id = ++wait_id_;
    if (deadline == steady::time_point::max()) return id;
    timer_.expires_at(deadline);
    timer_.async_wait([weak = weak_from_this(), id](const error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->wait_id_ != id || !self->socket_) return;
      self->timed_out_ = id;
      self->socket_->cancel();
    });
    return id;
  }

  void release_socket() {
    if (!socket_) return;
    error_code ignored;
    socket_->cancel(ignored);
    (void)socket_->release();  // never close: the fd is libpq's
    socket_.reset();
  }

  void close() {
    release_socket();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    backoff_timer_.expires_after(d);
    error_code ec;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void set_connected(bool up) {
    connected_.store(up, std::memory_order_relaxed);
    connected_gauge_.set(up ? 1 : 0);
  }

  // The handlers run here, on the executor, outside libpq; an exception is logged, never fatal.
  void deliver(std::vector<std::string> payloads) noexcept {
    if (payloads.empty() || !handlers_.on_notifications) return;
    try {
      handlers_.on_notifications(std::move(payloads));
    } catch (const std::exception& e) {
      spdlog::error("postgres listener: notification handler threw: {}", e.what());
    } catch (...) {
      spdlog::error("postgres listener: notification handler threw");
    }
  }

  void resync() noexcept {
    if (!handlers_.on_resync) return;
    try {
      handlers_.on_resync();
    } catch (const std::exception& e) {
      spdlog::error("postgres listener: resync handler threw: {}", e.what());
    } catch (...) {
      spdlog::error("postgres listener: resync handler threw");
    }
  }

  asio::any_io_executor executor_;
  listener_options options_;
  store::change_feed::handlers handlers_;
  asio::steady_timer timer_;          // the deadline of the current wait
  asio::steady_timer backoff_timer_;  // between attempts
  std::optional<asio::posix::stream_descriptor> socket_;
  PGconn* conn_ = nullptr;
  std::uint64_t wait_id_ = 0, timed_out_ = 0;
  std::atomic<bool> connected_{false};
  bool stopping_ = false;
  obs::gauge& connected_gauge_;
  obs::counter& reconnects_;
};

class pg_change_feed final : public store::change_feed {
 public:
  explicit pg_change_feed(std::shared_ptr<listener_state> state) : state_(std::move(state)) {}
  ~pg_change_feed() override { state_->stop(); }
  pg_change_feed(const pg_change_feed&) = delete;
  pg_change_feed& operator=(const pg_change_feed&) = delete;
  bool connected() const noexcept override { return state_->connected(); }

 private:
  std::shared_ptr<listener_state> state_;
};

}  // namespace

std::unique_ptr<store::change_feed> make_pg_listener(asio::any_io_executor executor, listener_options options,
                                                     store::change_feed::handlers handlers,
                                                     obs::registry& metrics) {
  auto state =
      std::make_shared<listener_state>(std::move(executor), std::move(options), std::move(handlers), metrics);
  state->start();
  return std::make_unique<pg_change_feed>(std::move(state));
}

}  // namespace keygate::postgres

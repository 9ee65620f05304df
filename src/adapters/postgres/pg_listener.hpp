// keygate::postgres::pg_listener — store::change_feed on a libpq connection of its own (never a
// pool connection: LISTEN is a session property, and a pool thread is busy with queries) that
// LISTENs on the channel the triggers of migrations/0002_invalidation_notify.sql NOTIFY.
//
// Never blocks its executor (but for a host name lookup, which libpq does synchronously inside
// PQconnectPoll; the executor is the gateway's background one, never a worker's): connect with
// PQconnectStartParams/PQconnectPoll, then
// non-blocking PQsendQuery("LISTEN ..."), PQconsumeInput and PQnotifies, each driven by
// `async_wait` on a posix::stream_descriptor that borrows libpq's socket for the duration of one
// wait (libpq owns and closes the fd; the descriptor only ever releases it).
//
// Supervision: connect + LISTEN within connect_timeout → listening (gauge 1) → wait for
// notifications until the connection fails (EOF, pg_terminate_backend, server restart; a silently
// dead peer by TCP keepalive) → back off (capped, doubled per failed attempt, reset once
// listening) → repeat. When listening starts after a loss or after failed attempts, `on_resync`
// runs. Logs connect/loss with host, port and database only (never the URL or its password).
//
// Metrics: keygate_pg_listener_connected (gauge), keygate_pg_listener_reconnects_total.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "keygate/obs/metrics.hpp"
#include "keygate/store/change_feed.hpp"

namespace keygate::postgres {

// The channel named by the migration's pg_notify calls.
inline constexpr std::string_view notify_channel = "keygate_invalidate";
// application_name of the LISTEN session (visible in pg_stat_activity).
inline constexpr std::string_view listener_application_name = "keygate-listen";

struct listener_options {
  std::string url;                                  // libpq URI or key=value string (store.postgres.url)
  std::chrono::milliseconds connect_timeout{5000};  // connect + LISTEN
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
};

// Starts listening at once (in the background on `executor`). `metrics` must outlive the feed.
std::unique_ptr<store::change_feed> make_pg_listener(boost::asio::any_io_executor executor,
                                                     listener_options options,
                                                     store::change_feed::handlers handlers,
                                                     obs::registry& metrics);

}  // namespace keygate::postgres

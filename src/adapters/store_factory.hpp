// keygate::adapters store factory: the one place that turns the `store` config section into a
// concrete backend, so the composition roots (cli/store_context, app/auth_stack) depend only on
// adapters::store_backend and the store interfaces.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "keygate/config/config.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/change_feed.hpp"
#include "store_backend.hpp"

namespace keygate::adapters {

// store.postgres → the Postgres adapter; otherwise store.sqlite → the SQLite adapter (the config
// loader rejects both at once); nullptr when neither is configured. Opening connects lazily:
// nothing here blocks or fails on an unreachable store.
std::unique_ptr<store_backend> open_store(const config::store& cfg);

// The store's change notifications: store.postgres with listen_notify (the default) → a LISTEN
// connection of its own (postgres/pg_listener.hpp), started at once on `executor`; otherwise
// nullptr (SQLite has no NOTIFY: direct SQL edits there need POST /cache/invalidate or the CLI).
// Never blocks or fails on an unreachable store (it retries in the background).
std::unique_ptr<store::change_feed> open_change_feed(const config::store& cfg,
                                                     boost::asio::any_io_executor executor,
                                                     store::change_feed::handlers handlers,
                                                     obs::registry& metrics);

// Readiness probe for any key_store: a lookup of a hash that cannot exist answers (found or
// not_found) — the store is reachable and migrated. Blocking (runs the lookup on a private
// io_context), bounded by the store's own deadline; call from a thread that may block.
bool store_answers(store::key_store& s);

}  // namespace keygate::adapters

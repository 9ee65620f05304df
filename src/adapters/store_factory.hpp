// keygate::adapters store factory: the one place that turns the `store` config section into a
// concrete backend, so the composition roots (cli/store_context, app/auth_stack) depend only on
// adapters::store_backend and the store interfaces.
#pragma once

#include <memory>

#include "keygate/config/config.hpp"
#include "store_backend.hpp"

namespace keygate::adapters {

// store.postgres → the Postgres adapter; otherwise store.sqlite → the SQLite adapter (the config
// loader rejects both at once); nullptr when neither is configured. Opening connects lazily:
// nothing here blocks or fails on an unreachable store.
std::unique_ptr<store_backend> open_store(const config::store& cfg);

// Readiness probe for any key_store: a lookup of a hash that cannot exist answers (found or
// not_found) — the store is reachable and migrated. Blocking (runs the lookup on a private
// io_context), bounded by the store's own deadline; call from a thread that may block.
bool store_answers(store::key_store& s);

}  // namespace keygate::adapters

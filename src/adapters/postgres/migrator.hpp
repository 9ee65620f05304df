// keygate::postgres migrations: applies the embedded migrations/*.sql (shared/migration_set.hpp)
// in name order, each file in its own transaction, recorded in
// schema_migrations(version, name, checksum, applied_at). Safe to run concurrently (a session
// advisory lock serialises migrators); refuses to continue when an applied file has changed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keygate/core/errc.hpp"
#include "postgres/pg_store.hpp"
#include "shared/migration_set.hpp"

namespace keygate::postgres {

using adapters::migrate_report;
using adapters::migration_state;

migrate_report migrate(pg_store& store);
result<std::vector<migration_state>> migration_status(pg_store& store, std::string& message);

}  // namespace keygate::postgres

// keygate::sqlite migrations: applies the embedded migrations/sqlite/*.sql in name order, each file
// in its own BEGIN IMMEDIATE transaction together with its schema_migrations row (SQLite DDL is
// transactional). The write lock serialises concurrent migrators (other processes too), and the
// applied set is re-read under it, so a file is never applied twice. Refuses to continue when an
// applied file has changed (shared/migration_set.hpp).
#pragma once

#include <string>
#include <vector>

#include "shared/migration_set.hpp"

namespace keygate::sqlite {

class sqlite_store;

adapters::migrate_report migrate(sqlite_store& store);
result<std::vector<adapters::migration_state>> migration_status(sqlite_store& store, std::string& message);

}  // namespace keygate::sqlite

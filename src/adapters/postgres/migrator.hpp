// keygate::postgres migrations: applies the embedded migrations/*.sql (embedded_migrations.hpp)
// in name order, each file in its own transaction, recorded in
// schema_migrations(version, name, checksum, applied_at). Safe to run concurrently (a session
// advisory lock serialises migrators); refuses to continue when an applied file has changed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keygate/core/errc.hpp"
#include "postgres/pg_store.hpp"

namespace keygate::postgres {

struct migration_state {
  std::string version;   // "0001"
  std::string name;      // "initial"
  std::string checksum;  // sha256 hex of the file
  bool applied = false;
  bool changed = false;  // applied with a different checksum
  bool unknown = false;  // applied, but not in this binary (a newer keygate migrated)
  std::string applied_at;
};

struct migrate_report {
  errc code = errc::ok;  // conflict: a changed applied file; dependency codes otherwise
  std::string message;
  std::vector<std::string> applied;  // versions applied by this run
};

migrate_report migrate(pg_store& store);
result<std::vector<migration_state>> migration_status(pg_store& store, std::string& message);

}  // namespace keygate::postgres

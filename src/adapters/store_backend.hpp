// keygate::adapters::store_backend — one configured store (Postgres or SQLite) as the three store
// interfaces the rest of keygate uses, plus its migrations. The composition roots (cli/, app/)
// hold a store_backend from open_store() (store_factory.hpp) and never name a concrete adapter.
//
// Contracts: those of store::key_store, store::management_store and store::blocking_runner;
// migrate() and migration_status() are blocking (CLI thread) and never throw.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keygate/store/key_store.hpp"
#include "keygate/store/management_store.hpp"
#include "shared/migration_set.hpp"

namespace keygate::adapters {

class store_backend : public store::key_store, public store::management_store, public store::blocking_runner {
 public:
  // Applies the pending embedded migrations of this backend's dialect (idempotent; concurrent
  // migrators serialise). report.code: ok, conflict (an applied file changed), a dependency errc,
  // or internal (a migration's SQL failed; report.message says why).
  virtual migrate_report migrate() = 0;
  // Applied and pending migrations; changes nothing but creating an empty schema_migrations.
  // On error `message` says why (for the CLI).
  virtual result<std::vector<migration_state>> migration_status(std::string& message) = 0;
  virtual std::string_view kind() const noexcept = 0;  // "postgres" | "sqlite"
};

}  // namespace keygate::adapters

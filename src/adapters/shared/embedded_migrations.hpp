// The SQL migration files, embedded at build time (cmake/embed_migrations.cmake), in name order:
// one set per dialect (migrations/*.sql for Postgres, migrations/sqlite/*.sql for SQLite).
#pragma once

#include <span>
#include <string_view>

namespace keygate::adapters {

struct embedded_migration {
  std::string_view file;  // "0001_initial.sql"
  std::string_view sql;
};

std::span<const embedded_migration> postgres_migrations() noexcept;
std::span<const embedded_migration> sqlite_migrations() noexcept;

}  // namespace keygate::adapters

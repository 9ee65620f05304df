// The migrations/*.sql files, embedded at build time (cmake/embed_migrations.cmake), in name order.
#pragma once

#include <span>
#include <string_view>

namespace keygate::postgres {

struct embedded_migration {
  std::string_view file;  // "0001_initial.sql"
  std::string_view sql;
};

std::span<const embedded_migration> embedded_migrations() noexcept;

}  // namespace keygate::postgres

#include "sqlite/sqlite_migrator.hpp"

#include <sqlite3.h>

#include "shared/row_values.hpp"
#include "sqlite/queries.hpp"
#include "sqlite/sqlite_store.hpp"

namespace keygate::sqlite {
namespace {

// Migrations may legitimately take long (index builds on a big table): each step gets this.
constexpr auto migration_step_timeout = std::chrono::minutes(5);

adapters::applied_map read_applied(connection& c) {
  c.exec(std::string(queries::create_schema_migrations));
  adapters::applied_map out;
  auto s = c.prepare(queries::list_migrations);
  while (s.step()) out[s.text(0)] = adapters::applied_migration{s.text(1), s.text(2), s.text(3)};
  return out;
}

std::vector<adapters::migration_state> states(connection& c) {
  return adapters::merge_applied(adapters::migration_files(adapters::sqlite_migrations()), read_applied(c));
}

void rollback_if_open(connection& c) noexcept {
  try {
    if (!sqlite3_get_autocommit(c.handle())) c.exec("ROLLBACK");
  } catch (...) {
    (void)c.map_current_exception();
  }
}

}  // namespace

adapters::migrate_report migrate(sqlite_store& store) {
  adapters::migrate_report report;
  const auto sources = adapters::sqlite_migrations();
  auto r = store.with_writer([&](connection& c) -> result<void> {
    // One file per iteration: lock, re-read what is applied, apply the first pending file.
    for (;;) {
      try {
        c.arm(steady::now() + migration_step_timeout);
        c.exec("BEGIN IMMEDIATE");
        const auto st = states(c);
        if (auto changed = adapters::check_unchanged(st); changed.code != errc::ok) {
          report = std::move(changed);
          rollback_if_open(c);
          return {};
        }
        std::size_t next = 0;
        while (next < sources.size() && st[next].applied) ++next;
        if (next == sources.size()) {
          c.exec("COMMIT");
          return {};
        }
        c.arm(steady::now() + migration_step_timeout);
        c.exec(std::string(sources[next].sql));
        auto rec = c.prepare(queries::record_migration);
        rec.bind_all(st[next].version, st[next].name, st[next].checksum,
                     adapters::micros(store::clock::now()));
        rec.run();
        c.exec("COMMIT");
        report.applied.push_back(st[next].version + "_" + st[next].name);
      } catch (const sqlite_failure& f) {
        rollback_if_open(c);
        const auto code = c.map_current_exception();
        if (source_of(code) == error_source::dependency) return code;
        report.code = errc::internal;
        report.message = std::string("migration failed: ") + f.what();
        return {};
      } catch (...) {
        rollback_if_open(c);
        return c.map_current_exception();
      }
    }
  });
  if (!r) {
    report.code = static_cast<errc>(r.error().value());
    report.message =
        "cannot use SQLite database " + store.options().path + ": " + std::string(code_name(report.code));
  }
  return report;
}

result<std::vector<adapters::migration_state>> migration_status(sqlite_store& store, std::string& message) {
  std::vector<adapters::migration_state> out;
  auto r = store.with_writer([&](connection& c) -> result<void> {
    try {
      c.arm();
      out = states(c);
      return {};
    } catch (...) {
      return c.map_current_exception();
    }
  });
  if (!r) {
    message = "cannot use SQLite database " + store.options().path + ": " + r.error().message();
    return r.error();
  }
  return out;
}

}  // namespace keygate::sqlite

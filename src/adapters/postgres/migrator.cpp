#include "postgres/migrator.hpp"

#include <pqxx/pqxx>

namespace keygate::postgres {
namespace {

// Arbitrary constant shared by every keygate migrator ("kgmigrat" in ASCII).
constexpr std::int64_t advisory_lock_id = 0x6b676d6967726174;
// Migrations may legitimately take long (index builds): each statement gets this deadline.
constexpr auto migration_step_timeout = std::chrono::minutes(5);

constexpr std::string_view create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
    "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

std::vector<migration_state> files() {
  return adapters::migration_files(adapters::postgres_migrations());
}

adapters::applied_map read_applied(pqxx::connection_base& c) {
  pqxx::nontransaction tx(c);
  adapters::applied_map out;
  for (const auto& r : tx.exec("SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations ORDER BY version"))
    out[r[0].c_str()] = adapters::applied_migration{r[1].c_str(), r[2].c_str(), r[3].c_str()};
  return out;
}

}  // namespace

migrate_report migrate(pg_store& store) {
  migrate_report report;
  auto r = store.with_connection([&](pqxx::connection_base& c, pg_worker& w) -> result<void> {
    const auto step = [&] { w.arm(steady::now() + migration_step_timeout); };
    try {
      step();
      pqxx::nontransaction(c).exec("SELECT pg_advisory_lock(" + std::to_string(advisory_lock_id) + ")");
      struct unlock_guard {
        pqxx::connection_base& c;
        ~unlock_guard() {
          try {
            pqxx::nontransaction(c).exec("SELECT pg_advisory_unlock(" + std::to_string(advisory_lock_id) +
                                         ")");
          } catch (...) {  // a broken connection released the lock anyway
          }
        }
      } unlock{c};
      step();
      pqxx::nontransaction(c).exec(std::string(create_table));
      const auto states = adapters::merge_applied(files(), read_applied(c));
      if (auto changed = adapters::check_unchanged(states); changed.code != errc::ok) {
        report = std::move(changed);
        w.disarm();
        return {};
      }
      const auto sources = adapters::postgres_migrations();
      for (std::size_t i = 0; i < sources.size(); ++i) {
        const auto& s = states[i];
        if (s.applied) continue;
        step();
        pqxx::work tx(c);
        tx.exec(std::string(sources[i].sql));
        tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                       s.version, s.name, s.checksum);
        tx.commit();
        report.applied.push_back(s.version + "_" + s.name);
      }
      w.disarm();
      return {};
    } catch (const pqxx::sql_error& e) {
      w.disarm();
      const auto code = w.map_current_exception();
      if (code == errc::internal || code == errc::invalid_argument || code == errc::conflict ||
          code == errc::not_found) {
        report.code = errc::internal;
        report.message = std::string("migration failed: ") + e.what();
        return {};
      }
      return code;
    } catch (...) {
      w.disarm();
      return w.map_current_exception();
    }
  });
  if (!r) {
    report.code = static_cast<errc>(r.error().value());
    report.message = "cannot reach Postgres: " + std::string(code_name(report.code));
  }
  return report;
}

result<std::vector<migration_state>> migration_status(pg_store& store, std::string& message) {
  std::vector<migration_state> out;
  auto r = store.with_connection([&](pqxx::connection_base& c, pg_worker& w) -> result<void> {
    try {
      w.arm();
      pqxx::nontransaction(c).exec(std::string(create_table));
      out = adapters::merge_applied(files(), read_applied(c));
      w.disarm();
      return {};
    } catch (...) {
      w.disarm();
      return w.map_current_exception();
    }
  });
  if (!r) {
    message = "cannot reach Postgres: " + r.error().message();
    return r.error();
  }
  return out;
}

}  // namespace keygate::postgres

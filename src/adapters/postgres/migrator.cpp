#include "postgres/migrator.hpp"

#include <map>
#include <pqxx/pqxx>

#include "keygate/auth/key_format.hpp"
#include "postgres/embedded_migrations.hpp"

namespace keygate::postgres {
namespace {

// Arbitrary constant shared by every keygate migrator ("kgmigrat" in ASCII).
constexpr std::int64_t advisory_lock_id = 0x6b676d6967726174;
// Migrations may legitimately take long (index builds): each statement gets this deadline.
constexpr auto migration_step_timeout = std::chrono::minutes(5);

constexpr std::string_view create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
    "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

struct applied_row {
  std::string checksum;
  std::string name;
  std::string applied_at;
};

std::vector<migration_state> files() {
  std::vector<migration_state> out;
  for (const auto& m : embedded_migrations()) {
    migration_state s;
    const std::string file(m.file);
    const auto us = file.find('_');
    s.version = file.substr(0, us);
    s.name = us == std::string::npos ? file : file.substr(us + 1, file.size() - us - 1 - 4);  // drop ".sql"
    s.checksum = auth::sha256_hex_string(m.sql);
    out.push_back(std::move(s));
  }
  return out;
}

std::map<std::string, applied_row> read_applied(pqxx::connection_base& c) {
  pqxx::nontransaction tx(c);
  std::map<std::string, applied_row> out;
  for (const auto& r : tx.exec("SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations ORDER BY version"))
    out[r[0].c_str()] = applied_row{r[2].c_str(), r[1].c_str(), r[3].c_str()};
  return out;
}

std::vector<migration_state> merge(std::vector<migration_state> fs,
                                   const std::map<std::string, applied_row>& applied) {
  for (auto& f : fs) {
    if (auto it = applied.find(f.version); it != applied.end()) {
      f.applied = true;
      f.changed = it->second.checksum != f.checksum;
      f.applied_at = it->second.applied_at;
    }
  }
  for (const auto& [version, row] : applied) {
    const bool known =
        std::any_of(fs.begin(), fs.end(), [&](const migration_state& f) { return f.version == version; });
    if (!known)
      fs.push_back(migration_state{version, row.name, row.checksum, true, false, true, row.applied_at});
  }
  return fs;
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
      const auto states = merge(files(), read_applied(c));
      for (const auto& s : states)
        if (s.changed) {
          report.code = errc::conflict;
          report.message = "migration " + s.version + "_" + s.name +
                           ".sql was changed after it was applied (checksum mismatch); refusing to migrate";
          w.disarm();
          return {};
        }
      const auto sources = embedded_migrations();
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
      out = merge(files(), read_applied(c));
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

#include "shared/migration_set.hpp"

#include <algorithm>

#include "keygate/auth/key_format.hpp"

namespace keygate::adapters {

std::vector<migration_state> migration_files(std::span<const embedded_migration> files) {
  std::vector<migration_state> out;
  for (const auto& m : files) {
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

std::vector<migration_state> merge_applied(std::vector<migration_state> fs, const applied_map& applied) {
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

migrate_report check_unchanged(const std::vector<migration_state>& states) {
  migrate_report report;
  for (const auto& s : states)
    if (s.changed) {
      report.code = errc::conflict;
      report.message = "migration " + s.version + "_" + s.name +
                       ".sql was changed after it was applied (checksum mismatch); refusing to migrate";
      break;
    }
  return report;
}

}  // namespace keygate::adapters

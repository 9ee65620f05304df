// The dialect-neutral half of keygate's migrations: every backend applies its embedded files in
// name order, each in its own transaction, recorded in
// schema_migrations(version, name, checksum, applied_at), and refuses to continue when an applied
// file has changed (checksum = sha256 hex of the file's text). The backends differ only in how
// they lock, run SQL and read schema_migrations.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "keygate/core/errc.hpp"
#include "shared/embedded_migrations.hpp"

namespace keygate::adapters {

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
  std::vector<std::string> applied;  // "<version>_<name>" applied by this run
};

// One schema_migrations row.
struct applied_migration {
  std::string name;
  std::string checksum;
  std::string applied_at;  // RFC 3339 UTC
};
using applied_map = std::map<std::string, applied_migration>;  // by version

// The embedded files as states (version, name, checksum; nothing applied yet), in file order.
std::vector<migration_state> migration_files(std::span<const embedded_migration> files);
// `files` with what schema_migrations says; applied versions unknown to this binary are appended.
std::vector<migration_state> merge_applied(std::vector<migration_state> files, const applied_map& applied);
// A report with code conflict naming the first applied file whose checksum changed; a report with
// code ok when none changed.
migrate_report check_unchanged(const std::vector<migration_state>& states);

}  // namespace keygate::adapters

// `keygate keys import --tenant T --user U --prefix P (--name N --sha256 HEX | --file FILE)`.
// The file holds "<sha256-hex> <name>" per line; '#' comments and blank lines are skipped. The
// whole file is one transaction: a bad line (reported with its number) or a hash already present
// aborts it with nothing written.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// nullopt after printing the offending line number.
std::optional<std::vector<manage::import_item>> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "keygate: cannot open " << path << "\n";
    return std::nullopt;
  }
  std::vector<manage::import_item> items;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    const auto s = trim(line);
    if (s.empty() || s.front() == '#') continue;
    const auto sp = s.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      std::cerr << "keygate: " << path << ": line " << n << ": expected \"<sha256-hex> <name>\"\n";
      return std::nullopt;
    }
    items.push_back({n, std::string(s.substr(0, sp)), std::string(trim(s.substr(sp + 1)))});
  }
  return items;
}

}  // namespace

void add_keys_import_command(CLI::App& keys, int& exit_code) {
  struct opts {
    std::string config, tenant, user, prefix, name, sha256, file;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand("import", "Adopt existing keys by their SHA-256 (one transaction)");
  add_config_option(cmd, o->config);
  cmd->add_option("--tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("--user", o->user, "User id")->required();
  cmd->add_option("--prefix", o->prefix, "The keys' prefix (one of auth.key_prefixes)")->required();
  auto* name = cmd->add_option("--name", o->name, "Key name (with --sha256)");
  auto* sha = cmd->add_option("--sha256", o->sha256, "SHA-256 hex of the key")->needs(name);
  auto* file = cmd->add_option("--file", o->file, "File of \"<sha256-hex> <name>\" lines")
                   ->excludes(sha)
                   ->excludes(name);
  (void)file;
  cmd->callback([&exit_code, o] {
    manage::import_request r{o->tenant, o->user, o->prefix, {}};
    if (!o->file.empty()) {
      auto items = read_file(o->file);
      if (!items) return void(exit_code = exit_usage);
      r.items = std::move(*items);
    } else if (!o->sha256.empty()) {
      r.items.push_back({0, o->sha256, o->name});
    } else {
      return void(exit_code = fail_usage("keys import: give --sha256 HEX --name NAME, or --file FILE"));
    }
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto n = ctx->service->import_keys(manage::actor::cli(), r);
    if (!n) return void(exit_code = fail(n.error()));
    std::cerr << "imported " << *n << " key" << (*n == 1 ? "" : "s") << " for user " << o->user << "\n";
    exit_code = exit_ok;
  });
}

}  // namespace keygate::cli

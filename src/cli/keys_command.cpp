// `keygate keys create|list|show` (and registration of the other keys subcommands).
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "keygate/config/loader.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {
namespace {

std::vector<std::string> split_scopes(const std::string& csv) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= csv.size()) {
    const auto comma = csv.find(',', start);
    const auto part = csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty() || comma != std::string::npos)
      out.push_back(part);  // "a,,b": the empty one is rejected
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void print_key_line(const store::api_key& k, store::time_point now) {
  std::cout << k.id << "\t" << k.display_prefix << "\t" << k.name << "\t" << k.user_id << "\t"
            << core::to_string(k.role) << "\t" << key_status(k, now) << "\t"
            << (k.expires_at ? format_time(*k.expires_at) : "-") << "\n";
}

void add_create(CLI::App& keys, int& exit_code) {
  struct opts {
    std::string config, tenant, user, name, description, scopes, role, expires_in, expires_at, prefix;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand("create", "Create an API key; prints the secret once (stdout)");
  add_config_option(cmd, o->config);
  cmd->add_option("--tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("--user", o->user, "User id")->required();
  cmd->add_option("--name", o->name, "Key name")->required();
  cmd->add_option("--description", o->description, "Free text");
  cmd->add_option("--scopes", o->scopes, "Comma-separated scopes");
  cmd->add_option("--role", o->role, "viewer|member|admin|owner (default: the user's role)")
      ->check(CLI::IsMember({"viewer", "member", "admin", "owner"}));
  auto* in = cmd->add_option("--expires-in", o->expires_in, "Lifetime, e.g. 30d, 12h");
  cmd->add_option("--expires-at", o->expires_at, "Expiry, RFC 3339")->excludes(in);
  cmd->add_option("--prefix", o->prefix, "Key prefix (default: the first checksummed auth.key_prefixes)");
  cmd->add_flag("--json", o->json, "Print {\"id\",\"secret\"} instead of the bare secret");
  cmd->callback([&exit_code, o] {
    manage::create_key_request r;
    r.tenant_id = o->tenant;
    r.user_id = o->user;
    r.name = o->name;
    r.description = o->description;
    if (!o->scopes.empty()) r.scopes = split_scopes(o->scopes);
    if (!o->role.empty()) r.role = core::parse_role(o->role);
    r.prefix = o->prefix;
    if (!o->expires_in.empty()) {
      const auto d = config::parse_duration(o->expires_in);
      if (!d || d->count() <= 0)
        return void(exit_code = fail_usage("--expires-in: expected a duration like 30d"));
      r.expires_at = store::clock::now() + *d;
    }
    if (!o->expires_at.empty()) {
      r.expires_at = parse_rfc3339(o->expires_at);
      if (!r.expires_at)
        return void(exit_code = fail_usage("--expires-at: expected RFC 3339, e.g. 2030-01-31T00:00:00Z"));
    }
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto k = ctx->service->create_key(manage::actor::cli(), r);
    if (!k) return void(exit_code = fail(k.error()));
    if (o->json)
      std::cout << nlohmann::json{{"id", k->key.id}, {"secret", k->secret}}.dump() << "\n";
    else
      std::cout << k->secret << "\n";
    std::cerr << "created key " << k->key.id << " (" << k->key.display_prefix
              << "…); the secret is shown only once\n";
    exit_code = exit_ok;
  });
}

void add_list(CLI::App& keys, int& exit_code) {
  struct opts {
    std::string config, tenant;
    std::optional<std::string> user;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand("list", "List keys (masked metadata only)");
  add_config_option(cmd, o->config);
  cmd->add_option("--tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("--user", o->user, "Only this user's keys");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([&exit_code, o] {
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto ks = ctx->service->list_keys(manage::actor::cli(), o->tenant, o->user);
    if (!ks) return void(exit_code = fail(ks.error()));
    const auto now = store::clock::now();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : *ks) {
      if (o->json)
        out.push_back(to_json(k, now));
      else
        print_key_line(k, now);
    }
    if (o->json) std::cout << out.dump(2) << "\n";
    exit_code = exit_ok;
  });
}

void add_show(CLI::App& keys, int& exit_code) {
  struct opts {
    std::string config, id;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand("show", "Show one key (masked metadata only)");
  add_config_option(cmd, o->config);
  cmd->add_option("KEY_ID", o->id, "Key id (key_…)")->required();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([&exit_code, o] {
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto k = ctx->service->show_key(manage::actor::cli(), o->id);
    if (!k) return void(exit_code = fail(k.error()));
    const auto j = to_json(*k, store::clock::now());
    if (o->json) {
      std::cout << j.dump(2) << "\n";
    } else {
      for (const auto& [name, v] : j.items())
        std::cout << name << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
    exit_code = exit_ok;
  });
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_code) {
  auto* keys = app.add_subcommand("keys", "API key lifecycle");
  keys->require_subcommand(1);
  add_create(*keys, exit_code);
  add_list(*keys, exit_code);
  add_show(*keys, exit_code);
  add_keys_lifecycle_commands(*keys, exit_code);
  add_keys_import_command(*keys, exit_code);
}

}  // namespace keygate::cli

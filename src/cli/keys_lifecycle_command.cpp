// `keygate keys revoke|enable|disable|rotate KEY_ID`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "keygate/config/loader.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {
namespace {

using change_fn = manage::outcome<store::api_key> (manage::service::*)(const manage::actor&,
                                                                       const std::string&);

void add_change(CLI::App& keys, int& exit_code, const char* name, const char* help, change_fn fn,
                const char* done) {
  struct opts {
    std::string config, id;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand(name, help);
  add_config_option(cmd, o->config);
  cmd->add_option("KEY_ID", o->id, "Key id (key_…)")->required();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([&exit_code, o, fn, done] {
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto k = ((*ctx->service).*fn)(manage::actor::cli(), o->id);
    if (!k) return void(exit_code = fail(k.error()));
    if (o->json) std::cout << to_json(*k, store::clock::now()).dump(2) << "\n";
    std::cerr << done << " key " << k->id << "\n";
    exit_code = exit_ok;
  });
}

void add_rotate(CLI::App& keys, int& exit_code) {
  struct opts {
    std::string config, id, grace = "0s";
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = keys.add_subcommand("rotate", "Replace a key; prints the new secret once (stdout)");
  add_config_option(cmd, o->config);
  cmd->add_option("KEY_ID", o->id, "Key id (key_…)")->required();
  cmd->add_option("--grace", o->grace,
                  "How long the old key stays valid (never past its own expiry), e.g. 1h");
  cmd->add_flag("--json", o->json, "Print {\"id\",\"secret\"} instead of the bare secret");
  cmd->callback([&exit_code, o] {
    const auto grace = config::parse_duration(o->grace);
    if (!grace) return void(exit_code = fail_usage("--grace: expected a duration like 1h"));
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    auto r = ctx->service->rotate_key(manage::actor::cli(), o->id,
                                      std::chrono::duration_cast<std::chrono::seconds>(*grace));
    if (!r) return void(exit_code = fail(r.error()));
    const auto& nk = r->new_key;
    if (o->json)
      std::cout << nlohmann::json{{"id", nk.key.id}, {"secret", nk.secret}}.dump() << "\n";
    else
      std::cout << nk.secret << "\n";
    std::cerr << "rotated key " << r->old_key.id << " -> " << nk.key.id << "; old key valid until "
              << (r->old_key.expires_at ? format_time(*r->old_key.expires_at) : "-") << "\n";
    exit_code = exit_ok;
  });
}

}  // namespace

void add_keys_lifecycle_commands(CLI::App& keys, int& exit_code) {
  add_change(keys, exit_code, "revoke", "Revoke a key (permanent)", &manage::service::revoke_key, "revoked");
  add_change(keys, exit_code, "enable", "Re-enable a disabled key", &manage::service::enable_key, "enabled");
  add_change(keys, exit_code, "disable", "Disable a key (reversible)", &manage::service::disable_key,
             "disabled");
  add_rotate(keys, exit_code);
}

}  // namespace keygate::cli

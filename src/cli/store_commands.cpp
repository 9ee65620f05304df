// `keygate migrate|tenants|users|keys|sessions`: registered here, implemented one group per file.
#include "store_commands.hpp"

#include <CLI/CLI.hpp>

#include "keygate/cli/commands.hpp"

namespace keygate::cli {

void add_config_option(CLI::App* cmd, std::string& path) {
  cmd->add_option("--config", path, "Configuration file (default: $KEYGATE_CONFIG)");
}

void add_store_commands(CLI::App& app, int& exit_code) {
  add_migrate_command(app, exit_code);
  add_tenants_command(app, exit_code);
  add_users_command(app, exit_code);
  add_keys_command(app, exit_code);
  add_sessions_command(app, exit_code);
}

}  // namespace keygate::cli

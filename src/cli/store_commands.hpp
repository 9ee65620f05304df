// Registration functions of the store subcommand groups (one file each).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace keygate::cli {

void add_migrate_command(CLI::App& app, int& exit_code);
void add_tenants_command(CLI::App& app, int& exit_code);
void add_users_command(CLI::App& app, int& exit_code);
void add_keys_command(CLI::App& app, int& exit_code);              // create, list, show
void add_keys_lifecycle_commands(CLI::App& keys, int& exit_code);  // revoke, enable, disable, rotate
void add_keys_import_command(CLI::App& keys, int& exit_code);
void add_sessions_command(CLI::App& app, int& exit_code);

// `--config FILE` (default $KEYGATE_CONFIG) on `cmd`.
void add_config_option(CLI::App* cmd, std::string& path);

}  // namespace keygate::cli

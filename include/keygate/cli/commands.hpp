// keygate::cli — one `add_*` function per subcommand group, each registering its CLI11
// subcommands on the root app. Callbacks store the process exit code in `exit_code`:
// 0 ok, 1 usage/validation error, 2 dependency unavailable (SPEC §1).
#pragma once

namespace CLI {
class App;
}

namespace keygate::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 1;
inline constexpr int exit_unavailable = 2;

void add_version_command(CLI::App& app, int& exit_code);
void add_check_config_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_store_commands(CLI::App& app, int& exit_code);  // migrate, tenants, users, keys, sessions

}  // namespace keygate::cli

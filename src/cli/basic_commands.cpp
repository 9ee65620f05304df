// `keygate version` and `keygate check-config`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/build_info.hpp"
#include "keygate/cli/commands.hpp"
#include "keygate/config/loader.hpp"
#include "keygate/core/malloc_info.hpp"

namespace keygate::cli {

void add_version_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("version", "Print version and build information");
  cmd->callback([&exit_code] {
    std::cout << "keygate " << build_info::version << " (api " << build_info::api_version << ", "
              << build_info::git_revision << ", " << build_info::build_type << ", " << build_info::compiler
              << ", malloc " << core::malloc_name() << ")\n";
    exit_code = exit_ok;
  });
}

void add_check_config_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check-config", "Validate a configuration file; print every error");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--config", *path, "Configuration file (default: $KEYGATE_CONFIG)");
  cmd->callback([&exit_code, path] {
    try {
      const auto file = config::resolve_path(*path);
      const auto cfg = config::load_file(file);
      std::cerr << file << ": ok (" << cfg.routes.size() << " routes, " << cfg.upstreams.size()
                << " upstreams)\n";
      exit_code = exit_ok;
    } catch (const config::load_error& e) {
      for (const auto& line : e.errors()) std::cerr << line << "\n";
      exit_code = exit_usage;
    }
  });
}

}  // namespace keygate::cli

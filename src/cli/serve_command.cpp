// `keygate serve --config FILE`: runs the gateway until SIGTERM/SIGINT.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/gateway.hpp"
#include "keygate/cli/commands.hpp"
#include "keygate/config/loader.hpp"

namespace keygate::cli {

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the gateway (public and internal listeners)");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--config", *path, "Configuration file (default: $KEYGATE_CONFIG)");
  cmd->callback([&exit_code, path] {
    std::string file;
    try {
      file = config::resolve_path(*path);
      app::gateway gw(file, config::load_file(file));
      exit_code = gw.run();
    } catch (const config::load_error& e) {
      for (const auto& line : e.errors()) std::cerr << line << "\n";
      exit_code = exit_usage;
    } catch (const std::exception& e) {
      std::cerr << "keygate serve: " << e.what() << "\n";
      exit_code = exit_usage;
    }
  });
}

}  // namespace keygate::cli

// Composition root: registers the subcommands and runs the one the user asked for.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"keygate: authenticating reverse-proxy gateway", "keygate"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = keygate::cli::exit_ok;
  keygate::cli::add_version_command(app, exit_code);
  keygate::cli::add_check_config_command(app, exit_code);
  keygate::cli::add_serve_command(app, exit_code);
  keygate::cli::add_store_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : keygate::cli::exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "keygate: " << e.what() << "\n";
    return keygate::cli::exit_usage;
  }
  return exit_code;
}

#include <CLI/CLI.hpp>

#include "keygate/cli/commands.hpp"

namespace keygate::cli {
void add_store_commands(CLI::App&, int&) {}
}  // namespace keygate::cli

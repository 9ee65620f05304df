// `keygate serve`: placeholder until the gateway is wired (see app/gateway).
#include <CLI/CLI.hpp>

#include "keygate/cli/commands.hpp"

namespace keygate::cli {
void add_serve_command(CLI::App&, int&) {}
}  // namespace keygate::cli

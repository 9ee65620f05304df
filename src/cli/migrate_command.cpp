// `keygate migrate [--status]`: applies the configured backend's embedded migrations
// (adapters::store_backend::migrate; Postgres or SQLite dialect).
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {

void add_migrate_command(CLI::App& app, int& exit_code) {
  struct opts {
    std::string config;
    bool status = false;
    bool json = false;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = app.add_subcommand("migrate", "Apply pending database migrations (idempotent)");
  add_config_option(cmd, o->config);
  cmd->add_flag("--status", o->status, "List applied and pending migrations; change nothing");
  cmd->add_flag("--json", o->json, "With --status: JSON output");
  cmd->callback([&exit_code, o] {
    auto ctx = open_store(o->config, exit_code);
    if (!ctx) return;
    if (o->status) {
      std::string message;
      auto st = ctx->store->migration_status(message);
      if (!st) {
        exit_code = fail(manage::error{static_cast<errc>(st.error().value()), message});
        return;
      }
      bool pending = false;
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : *st) {
        const char* state = m.changed   ? "changed"
                            : m.unknown ? "applied (not in this binary)"
                            : m.applied ? "applied"
                                        : "pending";
        pending = pending || !m.applied;
        if (o->json)
          out.push_back({{"version", m.version},
                         {"name", m.name},
                         {"state", state},
                         {"checksum", m.checksum},
                         {"applied_at", m.applied_at}});
        else
          std::cout << m.version << "  " << m.name << "  " << state << (m.applied ? "  " + m.applied_at : "")
                    << "\n";
      }
      if (o->json) std::cout << out.dump(2) << "\n";
      exit_code = exit_ok;
      (void)pending;
      return;
    }
    const auto report = ctx->store->migrate();
    if (report.code != errc::ok) {
      exit_code = fail(manage::error{report.code, report.message});
      return;
    }
    for (const auto& v : report.applied) std::cerr << "applied " << v << "\n";
    std::cerr << (report.applied.empty() ? "schema is up to date\n" : "migrations complete\n");
    exit_code = exit_ok;
  });
}

}  // namespace keygate::cli

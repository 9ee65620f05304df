// `keygate sessions create --user ID [--ttl 24h] [--json]` and `keygate sessions revoke SESSION_ID`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "keygate/config/loader.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {

void add_sessions_command(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("sessions", "Mint and revoke session tokens");
  group->require_subcommand(1);

  struct create_opts {
    std::string config, user, ttl = "24h";
    bool json = false;
  };
  auto c = std::make_shared<create_opts>();
  auto* create = group->add_subcommand("create", "Create a session; prints the token once (stdout)");
  add_config_option(create, c->config);
  create->add_option("--user", c->user, "User id")->required();
  create->add_option("--ttl", c->ttl, "Lifetime, e.g. 24h");
  create->add_flag("--json", c->json, "Print {\"id\",\"secret\"} instead of the bare token");
  create->callback([&exit_code, c] {
    const auto ttl = config::parse_duration(c->ttl);
    if (!ttl) return void(exit_code = fail_usage("--ttl: expected a duration like 24h"));
    auto ctx = open_store(c->config, exit_code);
    if (!ctx) return;
    auto s = ctx->service->create_session(manage::actor::cli(),
                                          {c->user, std::chrono::duration_cast<std::chrono::seconds>(*ttl)});
    if (!s) return void(exit_code = fail(s.error()));
    if (c->json)
      std::cout << nlohmann::json{{"id", s->session.id}, {"secret", s->token}}.dump() << "\n";
    else
      std::cout << s->token << "\n";
    std::cerr << "created session " << s->session.id << " for user " << c->user << ", expires "
              << format_time(s->session.expires_at) << "\n";
    exit_code = exit_ok;
  });

  struct revoke_opts {
    std::string config, id;
  };
  auto r = std::make_shared<revoke_opts>();
  auto* revoke = group->add_subcommand("revoke", "Revoke a session");
  add_config_option(revoke, r->config);
  revoke->add_option("SESSION_ID", r->id, "Session id (ses_…)")->required();
  revoke->callback([&exit_code, r] {
    auto ctx = open_store(r->config, exit_code);
    if (!ctx) return;
    auto s = ctx->service->revoke_session(manage::actor::cli(), r->id);
    if (!s) return void(exit_code = fail(s.error()));
    std::cerr << "revoked session " << s->id << "\n";
    exit_code = exit_ok;
  });
}

}  // namespace keygate::cli

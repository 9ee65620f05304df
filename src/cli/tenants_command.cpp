// `keygate tenants create|list` and `keygate users create|list`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keygate/cli/commands.hpp"
#include "store_commands.hpp"
#include "store_context.hpp"

namespace keygate::cli {

void add_tenants_command(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("tenants", "Create and list tenants");
  group->require_subcommand(1);

  struct create_opts {
    std::string config, id, name, api_access = "true";
    std::optional<std::uint32_t> max_keys;
    bool json = false;
  };
  auto c = std::make_shared<create_opts>();
  auto* create = group->add_subcommand("create", "Create a tenant");
  add_config_option(create, c->config);
  create->add_option("--id", c->id, "Tenant id (your own; 1-128 of [A-Za-z0-9._:@-])")->required();
  create->add_option("--name", c->name, "Display name")->required();
  create->add_option("--api-access", c->api_access, "May the tenant's keys call APIs")
      ->check(CLI::IsMember({"true", "false"}));
  create->add_option("--max-keys-per-user", c->max_keys,
                     "Per-user key limit (default: auth.max_keys_per_user)");
  create->add_flag("--json", c->json, "JSON output");
  create->callback([&exit_code, c] {
    auto ctx = open_store(c->config, exit_code);
    if (!ctx) return;
    auto t = ctx->service->create_tenant(manage::actor::cli(),
                                         {c->id, c->name, c->api_access == "true", c->max_keys});
    if (!t) return void(exit_code = fail(t.error()));
    if (c->json) std::cout << to_json(*t).dump() << "\n";
    std::cerr << "created tenant " << t->id << "\n";
    exit_code = exit_ok;
  });

  struct list_opts {
    std::string config;
    bool json = false;
  };
  auto l = std::make_shared<list_opts>();
  auto* list = group->add_subcommand("list", "List tenants");
  add_config_option(list, l->config);
  list->add_flag("--json", l->json, "JSON output");
  list->callback([&exit_code, l] {
    auto ctx = open_store(l->config, exit_code);
    if (!ctx) return;
    auto ts = ctx->service->list_tenants(manage::actor::cli());
    if (!ts) return void(exit_code = fail(ts.error()));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : *ts) {
      if (l->json)
        out.push_back(to_json(t));
      else
        std::cout << t.id << "\t" << t.name << "\tapi_access=" << (t.api_access ? "true" : "false") << "\n";
    }
    if (l->json) std::cout << out.dump(2) << "\n";
    exit_code = exit_ok;
  });
}

void add_users_command(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("users", "Create and list users");
  group->require_subcommand(1);

  struct create_opts {
    std::string config, tenant, id, role = "member";
    bool json = false;
  };
  auto c = std::make_shared<create_opts>();
  auto* create = group->add_subcommand("create", "Create a user in a tenant");
  add_config_option(create, c->config);
  create->add_option("--tenant", c->tenant, "Tenant id")->required();
  create->add_option("--id", c->id, "User id (your own; unique across tenants)")->required();
  create->add_option("--role", c->role, "viewer|member|admin|owner")
      ->check(CLI::IsMember({"viewer", "member", "admin", "owner"}));
  create->add_flag("--json", c->json, "JSON output");
  create->callback([&exit_code, c] {
    auto ctx = open_store(c->config, exit_code);
    if (!ctx) return;
    auto u = ctx->service->create_user(manage::actor::cli(), {c->tenant, c->id, *core::parse_role(c->role)});
    if (!u) return void(exit_code = fail(u.error()));
    if (c->json) std::cout << to_json(*u).dump() << "\n";
    std::cerr << "created user " << u->id << " in tenant " << u->tenant_id << "\n";
    exit_code = exit_ok;
  });

  struct list_opts {
    std::string config, tenant;
    bool json = false;
  };
  auto l = std::make_shared<list_opts>();
  auto* list = group->add_subcommand("list", "List a tenant's users");
  add_config_option(list, l->config);
  list->add_option("--tenant", l->tenant, "Tenant id")->required();
  list->add_flag("--json", l->json, "JSON output");
  list->callback([&exit_code, l] {
    auto ctx = open_store(l->config, exit_code);
    if (!ctx) return;
    auto us = ctx->service->list_users(manage::actor::cli(), l->tenant);
    if (!us) return void(exit_code = fail(us.error()));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : *us) {
      if (l->json)
        out.push_back(to_json(u));
      else
        std::cout << u.id << "\t" << core::to_string(u.role) << (u.disabled_at ? "\tdisabled" : "") << "\n";
    }
    if (l->json) std::cout << out.dump(2) << "\n";
    exit_code = exit_ok;
  });
}

}  // namespace keygate::cli

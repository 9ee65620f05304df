// keygate::manage::actor — who performs a management call, as authenticated by the caller
// (CLI, internal API). The service decides everything else from this value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keygate/core/role.hpp"

namespace keygate::manage {

enum class actor_kind {
  system,   // the CLI: privileged, cross-tenant
  service,  // an internal service token: cross-tenant
  api_key,  // an end user's API key: tenant-scoped, role- and scope-limited
  session,  // an end user's session: tenant-scoped, role-limited
};

struct actor {
  actor_kind kind = actor_kind::system;
  std::string name;  // "cli", the service token's name, or the key/session id
  // Tenant-scoped actors only (api_key, session):
  std::string tenant_id;
  std::string user_id;
  core::role role = core::role::viewer;  // effective: min(user role, key role)
  // The calling key's scopes; nullopt = not scope-limited (system, service, session).
  std::optional<std::vector<std::string>> scopes;
  // For the audit trail.
  std::string request_id;
  std::string client_ip;

  bool cross_tenant() const noexcept { return kind == actor_kind::system || kind == actor_kind::service; }
  std::string audit_name() const;   // "system:cli", "service:webapp", "key:key_…", "session:ses_…"
  std::string auth_method() const;  // "cli", "service_token", "api_key", "session"

  static actor cli() {
    return actor{actor_kind::system, "cli", {}, {}, core::role::owner, std::nullopt, {}, {}};
  }
};

}  // namespace keygate::manage

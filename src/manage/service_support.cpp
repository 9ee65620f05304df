#include "service_support.hpp"

#include <nlohmann/json.hpp>

namespace keygate::manage {

[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(code_name(e.code)) + ": " + e.message);
}

std::string actor::audit_name() const {
  switch (kind) {
    case actor_kind::system:
      return "system:" + name;
    case actor_kind::service:
      return "service:" + name;
    case actor_kind::api_key:
      return "key:" + name;
    case actor_kind::session:
      return "session:" + name;
  }
  return name;
}

std::string actor::auth_method() const {
  switch (kind) {
    case actor_kind::system:
      return "cli";
    case actor_kind::service:
      return "service_token";
    case actor_kind::api_key:
      return "api_key";
    case actor_kind::session:
      return "session";
  }
  return "unknown";
}

service_options service_options::from(const config::config& cfg) {
  service_options o;
  o.key_prefixes = cfg.auth.key_prefixes;
  o.default_max_keys_per_user = cfg.auth.max_keys_per_user;
  return o;
}

namespace detail {

error store_error(const boost::system::error_code& ec, const std::string& what) {
  if (ec == errc::not_found) return fail(errc::not_found, what + " not found");
  if (ec == errc::conflict) return fail(errc::conflict, what + " already exists");
  if (ec == errc::store_timeout) return fail(errc::store_timeout, "store did not answer in time");
  if (ec == errc::store_overloaded) return fail(errc::store_overloaded, "store is overloaded");
  if (ec.category() == keygate_category() &&
      source_of(static_cast<errc>(ec.value())) == error_source::dependency)
    return fail(static_cast<errc>(ec.value()), "store unavailable");
  if (ec.category() == keygate_category())
    return fail(static_cast<errc>(ec.value()), what + ": " + ec.message());
  return fail(errc::internal, what + ": internal error");
}

outcome<void> in_tx(store::management_store& s, const std::function<outcome<void>(store::store_tx&)>& body) {
  std::optional<error> rule_error;
  auto r = s.transact([&](store::store_tx& tx) -> result<void> {
    auto o = body(tx);
    if (!o) {
      rule_error = o.error();
      return make_error_code(o.error().code);
    }
    return {};
  });
  if (r) return {};
  if (rule_error) return *rule_error;
  return store_error(r.error(), "transaction");
}

outcome<void> audit(store::store_tx& tx, const actor& a, std::string action, std::string target,
                    std::optional<std::string> tenant_id, std::string detail, store::time_point now) {
  store::audit_event e;
  e.actor = a.audit_name();
  e.auth_method = a.auth_method();
  e.action = std::move(action);
  e.target = std::move(target);
  e.tenant_id = std::move(tenant_id);
  e.request_id = a.request_id;
  e.client_ip = a.client_ip;
  e.outcome = "success";
  e.detail = detail.empty() ? "{}" : std::move(detail);
  e.at = now;
  if (auto r = tx.insert_audit(e); !r) return store_error(r.error(), "audit event");
  return {};
}

outcome<void> check_read_access(const actor& a, const std::string& tenant_id, const std::string& user_id) {
  if (a.cross_tenant()) return {};
  if (a.tenant_id != tenant_id) return fail(errc::forbidden, "outside the caller's tenant");
  if (a.role < core::role::admin && a.user_id != user_id)
    return fail(errc::forbidden, "members may only manage their own keys");
  return {};
}

outcome<void> check_write_access(const actor& a, const std::string& tenant_id, const std::string& user_id) {
  if (auto r = check_read_access(a, tenant_id, user_id); !r) return r;
  if (!a.cross_tenant() && a.role < core::role::member)
    return fail(errc::role_too_low, "viewers may not change keys");
  return {};
}

outcome<void> require_cross_tenant(const actor& a, std::string_view what) {
  if (a.cross_tenant()) return {};
  return fail(errc::forbidden, std::string(what) + " requires a service token or the CLI");
}

outcome<std::string> mint_prefix(const service_options& o, const std::string& requested) {
  for (const auto& p : o.key_prefixes) {
    if (!requested.empty() && p.prefix != requested) continue;
    if (p.checksum) return p.prefix;
    if (!requested.empty())
      return fail(errc::invalid_argument,
                  "prefix '" + requested + "' has no checksum: keys can only be imported");
  }
  if (requested.empty()) return fail(errc::invalid_argument, "no checksummed key prefix is configured");
  return fail(errc::invalid_argument, "prefix '" + requested + "' is not configured in auth.key_prefixes");
}

std::string prefix_of_display(const std::string& display_prefix) {
  const auto pos = display_prefix.rfind('_');
  return pos == std::string::npos ? display_prefix : display_prefix.substr(0, pos);
}

}  // namespace detail
}  // namespace keygate::manage

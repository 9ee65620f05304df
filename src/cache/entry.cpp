#include "keygate/cache/entry.hpp"

#include <nlohmann/json.hpp>

namespace keygate::cache {
namespace {

using json = nlohmann::json;
using ms = std::chrono::milliseconds;

std::int64_t to_ms(store::time_point t) {
  return std::chrono::duration_cast<ms>(t.time_since_epoch()).count();
}
store::time_point from_ms(std::int64_t v) {
  return store::time_point(std::chrono::duration_cast<store::clock::duration>(ms(v)));
}

void put_opt(json& j, const char* k, const std::optional<store::time_point>& t) {
  if (t) j[k] = to_ms(*t);
}
std::optional<store::time_point> get_opt(const json& j, const char* k) {
  if (auto it = j.find(k); it != j.end() && it->is_number_integer()) return from_ms(it->get<std::int64_t>());
  return std::nullopt;
}
core::role role_of(const json& j, const char* k) {
  return core::parse_role(j.value(k, std::string("viewer"))).value_or(core::role::viewer);
}

// A found credential's entry and its identity lines in one allocation: a hit reads both.
struct entry_with_identity : entry {
  entry_with_identity() { identity = &lines; }
  identity_memo lines;
};

}  // namespace

std::shared_ptr<entry> make_entry(credential_type type, bool found) {
  std::shared_ptr<entry> e;
  if (found)
    e = std::make_shared<entry_with_identity>();
  else
    e = std::make_shared<entry>();
  e->type = type;
  e->found = found;
  return e;
}

std::string serialize(const entry& e) {
  json j{{"v", 1}, {"f", e.found}};
  if (e.key) {
    const auto& k = *e.key;
    j["id"] = k.key_id;
    j["t"] = k.tenant_id;
    j["u"] = k.user_id;
    j["dp"] = k.display_prefix;
    j["ur"] = core::to_string(k.user_role);
    j["kr"] = core::to_string(k.key_role);
    j["sc"] = k.scopes;
    put_opt(j, "exp", k.expires_at);
    put_opt(j, "dis", k.disabled_at);
    put_opt(j, "rev", k.revoked_at);
    j["api"] = k.tenant_api_access;
    j["ud"] = k.user_disabled;
  } else if (e.session) {
    const auto& s = *e.session;
    j["id"] = s.session_id;
    j["t"] = s.tenant_id;
    j["u"] = s.user_id;
    j["ur"] = core::to_string(s.user_role);
    j["exp"] = to_ms(s.expires_at);
    put_opt(j, "rev", s.revoked_at);
    j["api"] = s.tenant_api_access;
    j["ud"] = s.user_disabled;
  }
  return j.dump();
}

entry_ptr deserialize(credential_type type, std::string_view text) {
  const auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1 || !j.contains("f")) return nullptr;
  auto e = make_entry(type, j.value("f", false));
  if (!e->found) return e;
  try {
    if (type == credential_type::key) {
      store::key_record k;
      k.key_id = j.at("id").get<std::string>();
      k.tenant_id = j.at("t").get<std::string>();
      k.user_id = j.at("u").get<std::string>();
      k.display_prefix = j.value("dp", std::string());
      k.user_role = role_of(j, "ur");
      k.key_role = role_of(j, "kr");
      k.scopes = j.value("sc", std::vector<std::string>{});
      k.expires_at = get_opt(j, "exp");
      k.disabled_at = get_opt(j, "dis");
      k.revoked_at = get_opt(j, "rev");
      k.tenant_api_access = j.value("api", false);
      k.user_disabled = j.value("ud", true);
      e->key = std::move(k);
    } else {
      store::session_record s;
      s.session_id = j.at("id").get<std::string>();
      s.tenant_id = j.at("t").get<std::string>();
      s.user_id = j.at("u").get<std::string>();
      s.user_role = role_of(j, "ur");
      s.expires_at = from_ms(j.at("exp").get<std::int64_t>());
      s.revoked_at = get_opt(j, "rev");
      s.tenant_api_access = j.value("api", false);
      s.user_disabled = j.value("ud", true);
      e->session = std::move(s);
    }
  } catch (const json::exception&) {
    return nullptr;
  }
  return e;
}

std::chrono::milliseconds entry_ttl(const entry& e, ms ttl, ms negative_ttl, store::time_point now) {
  if (!e.found) return negative_ttl;
  std::optional<store::time_point> expires;
  bool revoked = false;
  if (e.key) {
    expires = e.key->expires_at;
    revoked = e.key->revoked_at.has_value();
  } else if (e.session) {
    expires = e.session->expires_at;
    revoked = e.session->revoked_at.has_value();
  }
  if (revoked || !expires) return ttl;
  if (*expires <= now) return negative_ttl;
  const auto left = std::chrono::duration_cast<ms>(*expires - now);
  return std::max(ms(1), std::min(ttl, left));
}

}  // namespace keygate::cache

#include "postgres/pg_rows.hpp"

namespace keygate::postgres::rows {

std::int64_t micros(store::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
std::optional<std::int64_t> micros(const std::optional<store::time_point>& t) {
  if (!t) return std::nullopt;
  return micros(*t);
}
store::time_point time(const pqxx::field& f) {
  return store::time_point(
      std::chrono::duration_cast<store::clock::duration>(std::chrono::microseconds(f.as<std::int64_t>())));
}
std::optional<store::time_point> opt_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return time(f);
}
std::string str(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
}
std::optional<std::string> opt_str(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return str(f);
}
core::role role(const pqxx::field& f) {
  return core::parse_role(f.c_str()).value_or(core::role::viewer);
}

std::vector<std::string> scopes(const pqxx::field& f) {
  std::vector<std::string> out;
  std::string_view s(f.c_str(), f.size());
  while (!s.empty()) {
    const auto sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

std::string join_scopes(const std::vector<std::string>& s) {
  std::string out;
  for (const auto& x : s) {
    if (!out.empty()) out += ' ';
    out += x;
  }
  return out;
}

store::tenant tenant(const pqxx::row& r) {
  store::tenant t;
  t.id = str(r[0]);
  t.name = str(r[1]);
  t.api_access = r[2].as<bool>();
  if (!r[3].is_null()) t.max_keys_per_user = r[3].as<std::uint32_t>();
  t.created_at = time(r[4]);
  return t;
}

store::user user(const pqxx::row& r) {
  return store::user{str(r[0]), str(r[1]), role(r[2]), opt_time(r[3]), time(r[4])};
}

store::api_key api_key(const pqxx::row& r) {
  store::api_key k;
  k.id = str(r[0]);
  k.tenant_id = str(r[1]);
  k.user_id = str(r[2]);
  k.name = str(r[3]);
  k.description = str(r[4]);
  k.display_prefix = str(r[5]);
  k.key_hash = str(r[6]);
  k.scopes = scopes(r[7]);
  k.role = role(r[8]);
  k.created_at = time(r[9]);
  k.updated_at = time(r[10]);
  k.expires_at = opt_time(r[11]);
  k.disabled_at = opt_time(r[12]);
  k.revoked_at = opt_time(r[13]);
  k.last_used_at = opt_time(r[14]);
  k.rotated_from = opt_str(r[15]);
  return k;
}

store::session session(const pqxx::row& r) {
  return store::session{str(r[0]), str(r[1]), str(r[2]), str(r[3]), time(r[4]), time(r[5]), opt_time(r[6])};
}

store::audit_event audit_event(const pqxx::row& r) {
  store::audit_event e;
  e.at = time(r[0]);
  e.tenant_id = opt_str(r[1]);
  e.actor = str(r[2]);
  e.auth_method = str(r[3]);
  e.action = str(r[4]);
  e.target = str(r[5]);
  e.request_id = str(r[6]);
  e.client_ip = str(r[7]);
  e.outcome = str(r[8]);
  e.detail = str(r[9]);
  return e;
}

store::key_record key_record(const pqxx::row& r, std::string key_hash) {
  store::key_record k;
  k.key_id = str(r[0]);
  k.key_hash = std::move(key_hash);
  k.tenant_id = str(r[1]);
  k.user_id = str(r[2]);
  k.display_prefix = str(r[3]);
  k.user_role = role(r[4]);
  k.key_role = role(r[5]);
  k.scopes = scopes(r[6]);
  k.expires_at = opt_time(r[7]);
  k.disabled_at = opt_time(r[8]);
  k.revoked_at = opt_time(r[9]);
  k.tenant_api_access = r[10].as<bool>();
  k.user_disabled = r[11].as<bool>();
  return k;
}

store::session_record session_record(const pqxx::row& r) {
  store::session_record s;
  s.session_id = str(r[0]);
  s.tenant_id = str(r[1]);
  s.user_id = str(r[2]);
  s.user_role = role(r[3]);
  s.expires_at = time(r[4]);
  s.revoked_at = opt_time(r[5]);
  s.tenant_api_access = r[6].as<bool>();
  s.user_disabled = r[7].as<bool>();
  return s;
}

}  // namespace keygate::postgres::rows

#include "keygate/manage/credential_scan.hpp"

namespace keygate::manage {

result<void> collect_credentials(store::store_tx& tx, std::string_view tenant_id,
                                 std::optional<std::string_view> user_id, credential_hashes& out) {
  auto keys = tx.list_keys(tenant_id, user_id);
  if (!keys) return keys.error();
  for (auto& k : *keys) out.keys.push_back(std::move(k.key_hash));
  auto sessions = tx.list_sessions(tenant_id, user_id);
  if (!sessions) return sessions.error();
  for (auto& s : *sessions) out.sessions.push_back(std::move(s.token_hash));
  return {};
}

result<void> collect_user_credentials(store::store_tx& tx, std::string_view user_id, credential_hashes& out) {
  auto u = tx.get_user(user_id, false);
  if (!u && u.error() == make_error_code(errc::not_found)) return {};
  if (!u) return u.error();
  return collect_credentials(tx, u->tenant_id, std::string_view(u->id), out);
}

}  // namespace keygate::manage

// fake_management_store: an in-memory store::management_store for unit tests of the management
// service. Transactions are serialised by one mutex and work on a copy of the state that
// replaces the real one only on success (so rollback is exact). `fail_with` makes every
// transaction fail with a dependency error.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>

#include "keygate/manage/invalidation_sink.hpp"
#include "keygate/store/management_store.hpp"

namespace keygate::test {

struct fake_state {
  std::map<std::string, store::tenant> tenants;
  std::map<std::string, store::user> users;
  std::map<std::string, store::api_key> keys;
  std::map<std::string, store::session> sessions;
  std::vector<store::audit_event> audit;
};

class fake_tx final : public store::store_tx {
 public:
  explicit fake_tx(fake_state& s) : s_(s) {}
  result<void> insert_tenant(const store::tenant& t) override {
    if (!s_.tenants.emplace(t.id, t).second) return errc::conflict;
    return {};
  }
  result<store::tenant> get_tenant(std::string_view id) override { return find(s_.tenants, id); }
  result<std::vector<store::tenant>> list_tenants() override { return values(s_.tenants); }
  result<void> insert_user(const store::user& u) override {
    if (!s_.tenants.count(u.tenant_id)) return errc::not_found;
    if (!s_.users.emplace(u.id, u).second) return errc::conflict;
    return {};
  }
  result<store::user> get_user(std::string_view id, bool) override { return find(s_.users, id); }
  result<std::vector<store::user>> list_users(std::string_view tenant) override {
    std::vector<store::user> out;
    for (auto& [id, u] : s_.users)
      if (u.tenant_id == tenant) out.push_back(u);
    return out;
  }
  result<std::size_t> count_live_keys(std::string_view user, store::time_point now) override {
    return static_cast<std::size_t>(std::count_if(s_.keys.begin(), s_.keys.end(), [&](auto& kv) {
      const auto& k = kv.second;
      return k.user_id == user && !k.revoked_at && (!k.expires_at || *k.expires_at > now);
    }));
  }
  result<void> insert_key(const store::api_key& k) override {
    for (auto& [id, other] : s_.keys)
      if (other.key_hash == k.key_hash) return errc::conflict;
    if (!s_.keys.emplace(k.id, k).second) return errc::conflict;
    return {};
  }
  result<std::optional<std::size_t>> insert_keys(std::span<const store::api_key> keys) override {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (!insert_key(keys[i])) return std::optional<std::size_t>(i);
    return std::optional<std::size_t>();
  }
  result<store::api_key> get_key(std::string_view id, bool) override { return find(s_.keys, id); }
  result<std::vector<store::api_key>> list_keys(std::string_view tenant,
                                                std::optional<std::string_view> user) override {
    std::vector<store::api_key> out;
    for (auto& [id, k] : s_.keys)
      if (k.tenant_id == tenant && (!user || k.user_id == *user)) out.push_back(k);
    return out;
  }
  result<void> update_key_state(const store::api_key& k) override {
    auto it = s_.keys.find(k.id);
    if (it == s_.keys.end()) return errc::not_found;
    it->second.expires_at = k.expires_at;
    it->second.disabled_at = k.disabled_at;
    it->second.revoked_at = k.revoked_at;
    it->second.updated_at = k.updated_at;
    return {};
  }
  result<void> insert_session(const store::session& s) override {
    if (!s_.sessions.emplace(s.id, s).second) return errc::conflict;
    return {};
  }
  result<store::session> get_session(std::string_view id, bool) override { return find(s_.sessions, id); }
  result<std::vector<store::session>> list_sessions(std::string_view tenant,
                                                    std::optional<std::string_view> user) override {
    std::vector<store::session> out;
    for (auto& [id, s] : s_.sessions)
      if (s.tenant_id == tenant && (!user || s.user_id == *user)) out.push_back(s);
    return out;
  }
  result<void> update_session_state(const store::session& s) override {
    auto it = s_.sessions.find(s.id);
    if (it == s_.sessions.end()) return errc::not_found;
    it->second.revoked_at = s.revoked_at;
    return {};
  }
  result<void> insert_audit(const store::audit_event& e) override {
    s_.audit.push_back(e);
    return {};
  }
  result<std::vector<store::audit_event>> list_audit(std::optional<std::string_view> tenant,
                                                     std::size_t limit) override {
    std::vector<store::audit_event> out;
    for (auto it = s_.audit.rbegin(); it != s_.audit.rend() && out.size() < limit; ++it)
      if (!tenant || it->tenant_id == std::string(*tenant)) out.push_back(*it);
    return out;
  }

 private:
  template <class M>
  static result<typename M::mapped_type> find(M& m, std::string_view id) {
    auto it = m.find(std::string(id));
    if (it == m.end()) return errc::not_found;
    return it->second;
  }
  template <class M>
  static std::vector<typename M::mapped_type> values(M& m) {
    std::vector<typename M::mapped_type> out;
    for (auto& [k, v] : m) out.push_back(v);
    return out;
  }
  fake_state& s_;
};

class fake_management_store final : public store::management_store {
 public:
  result<void> transact(const std::function<result<void>(store::store_tx&)>& work) override {
    std::lock_guard lock(mu_);
    if (fail_with != errc::ok) return fail_with;
    fake_state copy = state;
    fake_tx tx(copy);
    auto r = work(tx);
    if (r) state = std::move(copy);
    return r;
  }
  fake_state state;
  errc fail_with = errc::ok;

 private:
  std::mutex mu_;
};

// Records what the service reported; can be told to fail.
class recording_sink final : public manage::invalidation_sink {
 public:
  result<void> keys_changed(std::span<const std::string> h) override {
    keys.insert(keys.end(), h.begin(), h.end());
    if (fail) return errc::cache_unavailable;
    return {};
  }
  result<void> sessions_changed(std::span<const std::string> h) override {
    sessions.insert(sessions.end(), h.begin(), h.end());
    if (fail) return errc::cache_unavailable;
    return {};
  }
  std::vector<std::string> keys, sessions;
  bool fail = false;
};

}  // namespace keygate::test

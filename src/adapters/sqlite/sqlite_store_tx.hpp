// store::store_tx over one SQLite transaction (BEGIN IMMEDIATE, opened by sqlite_store::transact)
// on the writer connection. Every statement runs under the connection's armed deadline; every
// failure is mapped to an errc (connection::map_current_exception). `for_update` needs no SQL:
// BEGIN IMMEDIATE already holds the database's one write lock for the whole transaction, which is
// what makes the per-user key limit check atomic.
#pragma once

#include "keygate/store/management_store.hpp"
#include "sqlite/sqlite_connection.hpp"

namespace keygate::sqlite {

class sqlite_store_tx final : public store::store_tx {
 public:
  explicit sqlite_store_tx(connection& c) : c_(c) {}

  result<void> insert_tenant(const store::tenant& t) override;
  result<store::tenant> get_tenant(std::string_view id) override;
  result<std::vector<store::tenant>> list_tenants() override;
  result<void> insert_user(const store::user& u) override;
  result<store::user> get_user(std::string_view id, bool for_update) override;
  result<std::vector<store::user>> list_users(std::string_view tenant_id) override;
  result<std::size_t> count_live_keys(std::string_view user_id, store::time_point now) override;
  result<void> insert_key(const store::api_key& k) override;
  result<std::optional<std::size_t>> insert_keys(std::span<const store::api_key> keys) override;
  result<store::api_key> get_key(std::string_view id, bool for_update) override;
  result<std::vector<store::api_key>> list_keys(std::string_view tenant_id,
                                                std::optional<std::string_view> user_id) override;
  result<void> update_key_state(const store::api_key& k) override;
  result<void> insert_session(const store::session& s) override;
  result<store::session> get_session(std::string_view id, bool for_update) override;
  result<void> update_session_state(const store::session& s) override;
  result<std::vector<store::session>> list_sessions(std::string_view tenant_id,
                                                    std::optional<std::string_view> user_id) override;
  result<void> insert_audit(const store::audit_event& e) override;
  result<std::vector<store::audit_event>> list_audit(std::optional<std::string_view> tenant_id,
                                                     std::size_t limit) override;

 private:
  // Runs one step under a fresh deadline; failures become errc.
  template <class F>
  auto step(F&& f) -> result<decltype(f())>;

  connection& c_;
};

}  // namespace keygate::sqlite

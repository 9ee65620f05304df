// store::store_tx over one libpqxx transaction on a pool thread. Every statement runs under the
// worker's armed deadline; every driver exception is mapped to an errc (pg_worker).
#pragma once

#include <pqxx/pqxx>

#include "keygate/store/management_store.hpp"
#include "postgres/pg_pool.hpp"

namespace keygate::postgres {

class pg_store_tx final : public store::store_tx {
 public:
  pg_store_tx(pqxx::work& tx, pg_worker& w) : tx_(tx), w_(w) {}

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
  // Runs one blocking step under the deadline; exceptions become errc.
  template <class F>
  auto step(F&& f) -> result<decltype(f())>;

  pqxx::work& tx_;
  pg_worker& w_;
};

}  // namespace keygate::postgres

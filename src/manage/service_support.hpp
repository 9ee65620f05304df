// Private helpers of manage::service: transactions that carry rule errors out, store-error
// mapping, audit rows and the access checks every key operation shares.
#pragma once

#include <functional>
#include <string>

#include "keygate/manage/service.hpp"

namespace keygate::manage::detail {

inline error fail(errc code, std::string message) {
  return error{code, std::move(message)};
}

// A store error as a service error; `what` names the object ("tenant 'acme'").
error store_error(const boost::system::error_code& ec, const std::string& what);

// Runs `body` in one transaction; a rule error from `body` rolls back and is returned as is.
outcome<void> in_tx(store::management_store& s, const std::function<outcome<void>(store::store_tx&)>& body);

// Writes the audit row of a successful mutation.
outcome<void> audit(store::store_tx& tx, const actor& a, std::string action, std::string target,
                    std::optional<std::string> tenant_id, std::string detail, store::time_point now);

// Tenant-scoped actors only see their own tenant; members and viewers only their own user.
outcome<void> check_read_access(const actor& a, const std::string& tenant_id, const std::string& user_id);
// As check_read_access, and viewers may not mutate.
outcome<void> check_write_access(const actor& a, const std::string& tenant_id, const std::string& user_id);

// Cross-tenant (system or service) actors only.
outcome<void> require_cross_tenant(const actor& a, std::string_view what);

// The configured prefix to mint keys with (must be checksummed).
outcome<std::string> mint_prefix(const service_options& o, const std::string& requested);

// The key prefix a display prefix was made from ("kg_live_AbC123" → "kg_live").
std::string prefix_of_display(const std::string& display_prefix);

}  // namespace keygate::manage::detail

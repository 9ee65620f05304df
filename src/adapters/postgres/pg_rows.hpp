// Row <-> record mapping for the Postgres adapter: pqxx rows read through the shared mapping
// (shared/row_mapping.hpp; column orders are those of queries.hpp).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "keygate/store/records.hpp"
#include "shared/row_values.hpp"

namespace keygate::postgres::rows {

using adapters::join_scopes;
using adapters::micros;

store::tenant tenant(const pqxx::row& r);
store::user user(const pqxx::row& r);
store::api_key api_key(const pqxx::row& r);
store::session session(const pqxx::row& r);
store::audit_event audit_event(const pqxx::row& r);
store::key_record key_record(const pqxx::row& r, std::string key_hash);
store::session_record session_record(const pqxx::row& r);

}  // namespace keygate::postgres::rows

// Row <-> record mapping for the Postgres adapter (column orders are those of queries.hpp).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "keygate/store/records.hpp"

namespace keygate::postgres::rows {

std::optional<std::int64_t> micros(const std::optional<store::time_point>& t);
std::int64_t micros(store::time_point t);
std::optional<store::time_point> opt_time(const pqxx::field& f);
store::time_point time(const pqxx::field& f);
std::string str(const pqxx::field& f);
std::optional<std::string> opt_str(const pqxx::field& f);
core::role role(const pqxx::field& f);
std::vector<std::string> scopes(const pqxx::field& f);  // space-joined by the query
std::string join_scopes(const std::vector<std::string>& s);

store::tenant tenant(const pqxx::row& r);
store::user user(const pqxx::row& r);
store::api_key api_key(const pqxx::row& r);
store::session session(const pqxx::row& r);
store::audit_event audit_event(const pqxx::row& r);
store::key_record key_record(const pqxx::row& r, std::string key_hash);
store::session_record session_record(const pqxx::row& r);

}  // namespace keygate::postgres::rows

// keygate::manage views — the JSON shape of management records, shared by the CLI (--json) and
// the internal HTTP API, and RFC 3339 time formatting/parsing. Views are masked: never a key
// hash, never a secret.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "keygate/store/records.hpp"

namespace keygate::manage {

std::string format_time(store::time_point t);  // RFC 3339 UTC, "2025-01-02T03:04:05Z"
std::optional<store::time_point> parse_rfc3339(const std::string& text);

std::string key_status(const store::api_key& k, store::time_point now);  // active|disabled|expired|revoked
nlohmann::json to_json(const store::api_key& k, store::time_point now);
nlohmann::json to_json(const store::tenant& t);
nlohmann::json to_json(const store::user& u);
nlohmann::json to_json(const store::session& s);  // no token hash
nlohmann::json to_json(const store::audit_event& e);

}  // namespace keygate::manage

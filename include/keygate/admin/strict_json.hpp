// keygate::admin strict JSON for internal API request bodies: a body must be one JSON object;
// duplicate keys are refused (two parsers could otherwise disagree on which value counts), and
// so are keys outside the endpoint's schema.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "keygate/core/errc.hpp"

namespace keygate::admin {

struct json_error {
  errc code;            // bad_request (not JSON) or unprocessable (schema)
  std::string message;  // safe to return to the caller
};

// Parses `body` as one object with only `allowed` keys, none repeated (an empty body is `{}`
// when `empty_ok`).
std::optional<json_error> parse_object(std::string_view body, std::initializer_list<const char*> allowed,
                                       nlohmann::json& out, bool empty_ok = false);

}  // namespace keygate::admin

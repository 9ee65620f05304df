#include "keygate/admin/strict_json.hpp"

#include <set>
#include <vector>

namespace keygate::admin {

std::optional<json_error> parse_object(std::string_view body, std::initializer_list<const char*> allowed,
                                       nlohmann::json& out, bool empty_ok) {
  if (body.empty() && empty_ok) {
    out = nlohmann::json::object();
    return std::nullopt;
  }
  // Track the keys of every open object to spot duplicates at any depth.
  std::vector<std::set<std::string>> open;
  bool duplicate = false;
  const auto cb = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        open.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second) duplicate = true;
        break;
      default:
        break;
    }
    return true;
  };
  out = nlohmann::json::parse(body.begin(), body.end(), cb, false);
  if (out.is_discarded()) return json_error{errc::bad_request, "request body is not valid JSON"};
  if (duplicate) return json_error{errc::unprocessable, "duplicate key in request body"};
  if (!out.is_object()) return json_error{errc::unprocessable, "request body must be a JSON object"};
  for (const auto& [key, value] : out.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return json_error{errc::unprocessable, "unknown field '" + key.substr(0, 64) + "'"};
  }
  return std::nullopt;
}

}  // namespace keygate::admin

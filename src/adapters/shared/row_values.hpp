// Value conventions shared by every store adapter: timestamps cross the SQL boundary as integer
// microseconds since the Unix epoch (UTC), scopes as one space-joined string (scopes never
// contain spaces: manage::validation rejects them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/store/records.hpp"

namespace keygate::adapters {

std::int64_t micros(store::time_point t);
std::optional<std::int64_t> micros(const std::optional<store::time_point>& t);
store::time_point from_micros(std::int64_t us);

std::string join_scopes(const std::vector<std::string>& scopes);
std::vector<std::string> split_scopes(std::string_view joined);

}  // namespace keygate::adapters

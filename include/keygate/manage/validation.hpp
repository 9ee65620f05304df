// keygate::manage input validation shared by the service, the CLI and the internal API.
// All pure; every limit is named here once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace keygate::manage {

inline constexpr std::size_t max_id_chars = 128;
inline constexpr std::size_t max_name_bytes = 128;
inline constexpr std::size_t max_description_bytes = 1024;
inline constexpr std::size_t max_scopes = 64;

// Caller-chosen tenant/user ids: 1-128 of [A-Za-z0-9._:@-] (UUIDs, numbers, slugs, emails).
bool is_valid_external_id(std::string_view id) noexcept;
// Generated ids: "<kind>_" + 24 base62 ("key_…", "ses_…").
bool is_valid_generated_id(std::string_view id, std::string_view kind) noexcept;
// Names: 1-128 bytes, no control bytes (C0, DEL); UTF-8 allowed. Descriptions: 0-1024 bytes, same.
bool is_valid_name(std::string_view name) noexcept;
bool is_valid_description(std::string_view d) noexcept;
// A new random id: kind + "_" + 24 base62 characters.
std::string new_id(std::string_view kind);

}  // namespace keygate::manage

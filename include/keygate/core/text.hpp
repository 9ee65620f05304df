// keygate::core text predicates shared by config validation, the management service and the
// request path. All are pure and allocation-free.
#pragma once

#include <string_view>

namespace keygate::core {

// 64 lowercase hex characters (the stored form of every SHA-256 in keygate).
bool is_sha256_hex(std::string_view s) noexcept;

// RFC 9110 token (header names, methods).
bool is_token(std::string_view s) noexcept;

// A scope: 1-64 characters of [A-Za-z0-9_.:-] (no spaces: scopes travel space-separated).
bool is_valid_scope(std::string_view s) noexcept;

// A configured key prefix: 1-32 of [a-z0-9_], not starting or ending with '_'.
bool is_valid_key_prefix(std::string_view s) noexcept;

// ASCII case-insensitive equality / prefix test (header names).
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;

}  // namespace keygate::core

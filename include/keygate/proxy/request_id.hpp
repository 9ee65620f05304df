// keygate::proxy request correlation: X-Request-Id and W3C traceparent (SPEC §4).
#pragma once

#include <string>
#include <string_view>

namespace keygate::proxy {

// A client-supplied X-Request-Id is kept when it is 1-128 characters of [A-Za-z0-9._:-].
bool is_valid_request_id(std::string_view id) noexcept;
// 32 lowercase hex characters from a per-thread generator (unique, not secret).
std::string new_request_id();
// The same, written into `out` (its capacity is reused: no allocation on a per-session string).
void assign_new_request_id(std::string& out);

// `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, ids not all zero, lowercase.
bool is_valid_traceparent(std::string_view tp) noexcept;
// Starts a new trace: version 00, random trace and parent ids, sampled flag.
std::string new_traceparent();
void assign_new_traceparent(std::string& out);

}  // namespace keygate::proxy

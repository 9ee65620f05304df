// keygate::auth credential extraction (SPEC §3 "Where credentials are read").
//
// Precedence: `Authorization: Bearer` (scheme case-insensitive) → the api_key_header → the
// session cookie. A present Bearer decides alone: if it is invalid the request fails, it never
// falls back to the cookie. Other Authorization schemes (Basic, ...) are not keygate's and are
// ignored. Keys in query strings and Proxy-Authorization are never read.
//
// Errors: bad_request for ambiguous input (two Authorization headers, two api-key headers, two
// session cookies), invalid_api_key for an empty Bearer.
#pragma once

#include <string_view>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/http/head_parser.hpp"

namespace keygate::auth {

enum class credential_kind { none, api_key, session };

struct credential {
  credential_kind kind = credential_kind::none;
  std::string_view value;  // view into the request head
};

result<credential> extract_credential(const http::request_head& req, const config::auth& cfg) noexcept;

}  // namespace keygate::auth

// keygate::proxy header policy — builds the head keygate sends upstream and the head it sends
// back to the client (SPEC §4 "Headers to the upstream").
//
// Request contract, in this order:
//  1. hop-by-hop headers and every header named in Connection are removed;
//  2. every inbound header whose name starts with the identity prefix (case-insensitive, '_'
//     compared as '-') is removed, so the upstream sees only the identity keygate sets;
//  3. names containing '_' are dropped (policy `drop`; `reject` was refused earlier);
//  4. Host is kept; X-Forwarded-For/Proto/Host, X-Request-Id, traceparent, Content-Length,
//     Expect, and (with hide_credentials) Authorization and the session cookie are replaced;
//  5. keygate's own headers are added: identity, forwarding, correlation, framing.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/http/head_parser.hpp"

namespace keygate::proxy {

struct forward_context {
  std::string_view target;           // after strip_prefix
  std::string_view client_ip;        // the peer address
  bool client_is_trusted = false;    // peer in server.trusted_proxies
  std::string_view scheme = "http";  // of the public listener
  std::string_view request_id;
  std::string_view traceparent;
  std::string_view identity_prefix = "X-Keygate-";
  config::underscore_policy underscores = config::underscore_policy::drop;
  bool hide_authorization = false;  // also removes the api_key_header
  std::string_view api_key_header;  // removed with hide_authorization
  std::string_view session_cookie;  // removed from Cookie with hide_authorization
  // Identity headers set by the auth phase, rendered ("X-Keygate-User: u1\r\n" each): added
  // verbatim after the inbound ones with the identity prefix were removed.
  std::string_view identity_lines;
};

// Appends one header line, "<name>: <value>\r\n" (the caller has validated both).
void append_field(std::string& out, std::string_view name, std::string_view value);

// True when a header name has the identity prefix (case-insensitive, '_' ≡ '-').
bool has_identity_prefix(std::string_view name, std::string_view prefix) noexcept;

// Appends the upstream request head (request line, fields, final CRLF) to `out`.
void append_upstream_request(std::string& out, const http::request_head& req, const forward_context& ctx);

// Appends the client response head. `chunked_to_client` / `close` decide the framing headers
// keygate writes; the upstream's own framing and hop-by-hop headers are dropped.
void append_client_response(std::string& out, const http::response_head& res, std::string_view request_id,
                            bool chunked_to_client, bool close);

// The Cookie header value without the named cookie; empty when nothing else remains.
std::string strip_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace keygate::proxy

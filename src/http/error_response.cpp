#include "keygate/http/error_response.hpp"

#include <cstdio>

namespace keygate::http {

error_description describe(errc e) noexcept {
  switch (e) {
    case errc::bad_request:
      return {400, "bad_request", "malformed request"};
    case errc::uri_too_long:
      return {414, "uri_too_long", "request line too long"};
    case errc::headers_too_large:
      return {431, "headers_too_large", "request headers too large"};
    case errc::body_too_large:
      return {413, "body_too_large", "request body too large"};
    case errc::not_implemented:
      return {501, "not_implemented", "transfer coding not implemented"};
    case errc::no_route:
      return {404, "no_route", "no route matches this request"};
    case errc::method_not_allowed:
      return {405, "method_not_allowed", "method not allowed"};
    case errc::unprocessable:
      return {422, "invalid_request", "request does not match the schema"};
    case errc::missing_credentials:
      return {401, "missing_credentials", "credentials required"};
    case errc::invalid_api_key:
      return {401, "invalid_api_key", "invalid API key"};
    case errc::key_expired:
      return {401, "key_expired", "API key expired"};
    case errc::key_revoked:
      return {401, "key_revoked", "API key revoked"};
    case errc::key_disabled:
      return {401, "key_disabled", "API key disabled"};
    case errc::invalid_session:
      return {401, "invalid_session", "invalid session"};
    case errc::invalid_credentials:
      return {401, "invalid_credentials", "invalid credentials"};
    case errc::insufficient_scope:
      return {403, "insufficient_scope", "credential lacks a required scope"};
    case errc::api_access_disabled:
      return {403, "api_access_disabled", "API access is disabled for this tenant"};
    case errc::role_too_low:
      return {403, "role_too_low", "role too low for this route"};
    case errc::forbidden:
      return {403, "forbidden", "not allowed"};
    case errc::invalid_argument:
      return {422, "invalid_argument", "invalid argument"};
    case errc::not_found:
      return {404, "not_found", "not found"};
    case errc::conflict:
      return {409, "conflict", "conflict"};
    case errc::limit_exceeded:
      return {409, "limit_exceeded", "limit exceeded"};
    case errc::store_unavailable:
    case errc::store_timeout:
    case errc::store_overloaded:
    case errc::cache_unavailable:
    case errc::cache_timeout:
      return {503, "auth_unavailable", "credential store unavailable, retry later"};
    case errc::invalidation_incomplete:
      return {503, "invalidation_incomplete", "invalidation incomplete, retry"};
    case errc::upstream_unavailable:
      return {502, "upstream_unavailable", "upstream unavailable"};
    case errc::upstream_bad_response:
      return {502, "upstream_unavailable", "upstream sent an invalid response"};
    case errc::upstream_timeout:
      return {504, "upstream_timeout", "upstream timed out"};
    case errc::ok:
    case errc::internal:
      break;
  }
  return {500, "internal_error", "internal error"};
}

void append_json_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

void append_error_response(std::string& out, errc e, std::string_view request_id, const error_options& opts) {
  if (opts.uniform_credentials && describe(e).status == 401) e = errc::invalid_credentials;
  const auto d = describe(e);
  std::string body = "{\"error\":\"";
  body += d.code;
  body += "\",\"message\":\"";
  body += d.message;
  body += "\",\"request_id\":\"";
  append_json_escaped(body, request_id);
  body += "\"}";

  out += "HTTP/1.1 ";
  out += std::to_string(d.status);
  out += ' ';
  out += d.code;
  out +=
      "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  if (!request_id.empty()) {
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\n";
  }
  if (d.status == 401) out += "WWW-Authenticate: Bearer realm=\"keygate\"\r\n";
  if (d.status == 503) out += "Retry-After: 1\r\n";
  if (!opts.allow.empty()) {
    out += "Allow: ";
    out += opts.allow;
    out += "\r\n";
  }
  if (opts.close) out += "Connection: close\r\n";
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
}

}  // namespace keygate::http

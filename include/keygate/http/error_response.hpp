// keygate::http error responses — the one place where an errc becomes an HTTP status and a
// JSON body `{"error","message","request_id"}` (SPEC §4). Bodies never carry internal detail.
#pragma once

#include <string>
#include <string_view>

#include "keygate/core/errc.hpp"

namespace keygate::http {

struct error_description {
  unsigned status;
  std::string_view code;     // the JSON "error" value
  std::string_view message;  // fixed, human-readable, no internal detail
};

error_description describe(errc e) noexcept;

struct error_options {
  bool close = false;                // adds Connection: close
  std::string_view allow;            // for 405: the Allow header
  bool uniform_credentials = false;  // auth.uniform_errors: every 401 is invalid_credentials
};

// Appends a complete HTTP/1.1 response (head and JSON body) to `out`. Adds
// WWW-Authenticate for 401 and Retry-After for 503.
void append_error_response(std::string& out, errc e, std::string_view request_id,
                           const error_options& opts = {});

// JSON string escaping for values keygate writes itself (logs, bodies).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace keygate::http

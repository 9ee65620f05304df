// keygate::http head parser — keygate's own strict HTTP/1.1 message-head parser (SPEC §4).
//
// keygate parses request and response heads itself instead of trusting a general-purpose
// parser's leniency: every framing ambiguity that could let a request be read differently by
// keygate and by the upstream (request smuggling) is an error here. The parser is pure,
// allocation-free apart from the field vector, and zero-copy: every string_view points into the
// caller's buffer, which must outlive the head.
//
// Rejected (request → 400 unless noted; response → 502 by the caller):
//  * bare LF or bare CR, obs-fold (a line starting with SP/HTAB), control bytes or DEL in names
//    or values, empty names, whitespace before ':', non-token names or methods;
//  * versions other than HTTP/1.0 and HTTP/1.1;
//  * Content-Length that is not 1*DIGIT, overflows, or appears more than once (even equal);
//  * Transfer-Encoding together with Content-Length, on HTTP/1.0, or other than exactly
//    `chunked` (case-insensitive); an unknown coding → 501 (requests);
//  * a missing, empty or duplicate Host (requests);
//  * request line > max_request_line_bytes → 414, a field line > max_field_bytes, more than
//    max_header_count fields or a head > max_header_bytes → 431.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "keygate/core/errc.hpp"

namespace keygate::http {

struct head_limits {
  std::size_t max_request_line_bytes = 8192;
  std::size_t max_field_bytes = 8192;
  std::size_t max_header_bytes = 16384;
  std::size_t max_header_count = 100;
};

struct header_field {
  std::string_view name;
  std::string_view value;  // OWS trimmed
};

// Facts about message framing and connection handling derived from the fields.
struct framing {
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  std::vector<std::string_view> connection_tokens;  // every token of every Connection header
};

struct request_head {
  std::string_view method;
  std::string_view target;  // origin-form path+query after normalisation of absolute-form
  int version_minor = 1;    // HTTP/1.<minor>
  std::string_view host;
  std::vector<header_field> fields;
  struct framing framing;
  bool expect_continue = false;
  bool upgrade_websocket = false;  // Upgrade: websocket (with Connection: upgrade)
  std::size_t head_bytes = 0;      // bytes of the head including the final CRLF CRLF

  bool keep_alive() const noexcept {
    return version_minor == 1 ? !framing.connection_close : framing.connection_keep_alive;
  }
  bool has_body() const noexcept {
    return framing.chunked || (framing.content_length && *framing.content_length > 0);
  }
  // Value of the first field with this name (case-insensitive); empty when absent.
  std::string_view find(std::string_view name) const noexcept;
};

struct response_head {
  unsigned status = 0;
  std::string_view reason;
  int version_minor = 1;
  std::vector<header_field> fields;
  struct framing framing;
  std::size_t head_bytes = 0;
};

// Why a head was rejected: the errc decides the status; `reason` is a short stable label used
// for the framing-rejection metric and logs ("cl_and_te", "obs_fold", ...).
struct parse_error {
  errc code = errc::bad_request;
  std::string_view reason;
};

enum class parse_state { incomplete, complete, failed };

// Incremental head scanner: feed the whole buffered input each time (it resumes where it
// stopped); detects the end of the head and enforces line and size limits as bytes arrive, so
// an oversized or bare-LF head is rejected before it is complete.
class head_scanner {
 public:
  explicit head_scanner(const head_limits& limits, bool is_request) noexcept
      : limits_(limits), is_request_(is_request) {}
  parse_state scan(std::string_view buffered) noexcept;
  std::size_t head_bytes() const noexcept { return end_; }
  const parse_error& error() const noexcept { return error_; }
  void reset() noexcept { *this = head_scanner(limits_, is_request_); }

 private:
  head_limits limits_;
  bool is_request_;
  std::size_t pos_ = 0;             // next byte to examine
  std::size_t line_start_ = 0;      // start of the current line
  std::size_t lines_ = 0;           // complete lines so far
  std::size_t first_line_end_ = 0;  // offset just past the request/status line
  std::size_t end_ = 0;
  parse_error error_{};
};

// Parse a complete head (as delimited by head_scanner). On failure returns the error and
// leaves `out` partially filled.
std::optional<parse_error> parse_request_head(std::string_view head, const head_limits& limits,
                                              request_head& out);
std::optional<parse_error> parse_response_head(std::string_view head, const head_limits& limits,
                                               response_head& out);

// Helpers shared with header rewriting.
bool is_hop_by_hop(std::string_view name) noexcept;
bool connection_names(const framing& f, std::string_view header_name) noexcept;

}  // namespace keygate::http

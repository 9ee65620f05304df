#include "keygate/http/head_parser.hpp"

#include <cstdint>
#include <cstring>

#include "keygate/core/text.hpp"

namespace keygate::http {
namespace {

constexpr parse_error bad(std::string_view reason) {
  return {errc::bad_request, reason};
}
constexpr parse_error too_large(std::string_view reason) {
  return {errc::headers_too_large, reason};
}

constexpr bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

// field-value bytes: HTAB, SP, VCHAR, obs-text. Everything else (CTLs, DEL, CR, LF) is refused.
constexpr bool is_value_byte(unsigned char c) noexcept {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// Index of the first byte of `v` that is not a field-value byte, or npos. Eight bytes at a time
// (header values are most of a head's bytes): a word with no byte below 0x20 and no 0x7F is
// all value bytes; a word that might have one (HTAB is one) is checked byte by byte.
std::size_t first_non_value_byte(std::string_view v) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    const std::uint64_t below_space = (x - ones * 0x20) & ~x & highs;
    const std::uint64_t del = x ^ (ones * 0x7F);
    const std::uint64_t has_del = (del - ones) & ~del & highs;
    if ((below_space | has_del) == 0) continue;
    for (std::size_t j = i; j < i + 8; ++j)
      if (!is_value_byte(static_cast<unsigned char>(v[j]))) return j;
  }
  for (; i < v.size(); ++i)
    if (!is_value_byte(static_cast<unsigned char>(v[i]))) return i;
  return std::string_view::npos;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Next line of `head` starting at `pos` (without CRLF); the scanner already guaranteed that
// every line ends in CRLF.
std::string_view next_line(std::string_view head, std::size_t& pos) noexcept {
  const auto nl = head.find("\r\n", pos);
  const auto line = head.substr(pos, nl - pos);
  pos = nl + 2;
  return line;
}

bool parse_digits(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow 64 bits
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

bool is_known_coding(std::string_view c) noexcept {
  for (std::string_view k : {"chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress", "identity"})
    if (core::iequals(c, k)) return true;
  return false;
}

bool is_host_value(std::string_view h) noexcept {
  if (h.empty()) return false;
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("-._~:[]!$&'()*+,;=%", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

// Calls fn(token) for each comma-separated element, OWS-trimmed; false if an element is empty.
template <class Fn>
bool for_each_list_element(std::string_view value, Fn&& fn) {
  while (true) {
    const auto comma = value.find(',');
    const auto element = trim_ows(value.substr(0, comma));
    if (element.empty()) return false;
    fn(element);
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// Resets a head for the next message but keeps its vectors' capacity: a keep-alive connection
// parses one head per request and should not reallocate them each time.
template <class Head>
void reset_keeping_capacity(Head& h) {
  auto fields = std::move(h.fields);
  auto tokens = std::move(h.framing.connection_tokens);
  fields.clear();
  tokens.clear();
  h = Head{};
  h.fields = std::move(fields);
  h.framing.connection_tokens = std::move(tokens);
}

// Shared field-section parser for requests and responses. `transfer_codings` collects every
// Transfer-Encoding element so the caller can judge the whole list.
struct field_facts {
  std::size_t cl_count = 0;
  std::size_t te_count = 0;
  bool te_only_chunked = true;
  bool te_malformed = false;
  bool te_unknown = false;
  std::size_t chunked_count = 0;
  std::size_t host_count = 0;
  std::string_view host;
  bool cl_invalid = false;
  bool upgrade_websocket = false;
  bool expect_continue = false;
};

std::optional<parse_error> parse_fields(std::string_view head, std::size_t pos,
                                        std::vector<header_field>& fields, framing& f, field_facts& facts) {
  fields.clear();
  while (true) {
    const auto line = next_line(head, pos);
    if (line.empty()) break;
    if (is_ows(line.front())) return bad("obs_fold");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return bad("missing_colon");
    const auto name = line.substr(0, colon);
    if (name.empty()) return bad("empty_header_name");
    if (!core::is_token(name)) return bad("invalid_header_name");
    if (const auto bad_at = first_non_value_byte(line.substr(colon + 1)); bad_at != std::string_view::npos)
      return bad(line[colon + 1 + bad_at] == '\r' ? "bare_cr" : "control_byte");
    const auto value = trim_ows(line.substr(colon + 1));
    fields.push_back({name, value});

    switch (name.size()) {  // cheap pre-filter before the case-insensitive compares
      case 4:
        if (core::iequals(name, "host")) {
          ++facts.host_count;
          facts.host = value;
        }
        break;
      case 6:
        if (core::iequals(name, "expect") && core::iequals(value, "100-continue"))
          facts.expect_continue = true;
        break;
      case 7:
        if (core::iequals(name, "upgrade"))
          for_each_list_element(value, [&](std::string_view t) {
            if (core::iequals(t, "websocket")) facts.upgrade_websocket = true;
          });
        break;
      case 10:
        if (core::iequals(name, "connection")) {
          const bool ok = for_each_list_element(value, [&](std::string_view t) {
            f.connection_tokens.push_back(t);
            if (core::iequals(t, "close"))
              f.connection_close = true;
            else if (core::iequals(t, "keep-alive"))
              f.connection_keep_alive = true;
            else if (core::iequals(t, "upgrade"))
              f.connection_upgrade = true;
          });
          if (!ok) return bad("invalid_connection");
        }
        break;
      case 14:
        if (core::iequals(name, "content-length")) {
          ++facts.cl_count;
          std::uint64_t v = 0;
          if (!parse_digits(value, v))
            facts.cl_invalid = true;
          else
            f.content_length = v;
        }
        break;
      case 17:
        if (core::iequals(name, "transfer-encoding")) {
          ++facts.te_count;
          const bool ok = for_each_list_element(value, [&](std::string_view coding) {
            if (!core::is_token(coding))
              facts.te_malformed = true;
            else if (core::iequals(coding, "chunked"))
              ++facts.chunked_count;
            else {
              facts.te_only_chunked = false;
              if (!is_known_coding(coding)) facts.te_unknown = true;
            }
          });
          if (!ok) facts.te_malformed = true;
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

// Judges Content-Length / Transfer-Encoding once all fields are known (same rules both ways).
std::optional<parse_error> judge_body_framing(const field_facts& facts, framing& f, int version_minor,
                                              bool is_request) {
  if (facts.cl_count > 1) return bad("duplicate_content_length");
  if (facts.cl_invalid) return bad("invalid_content_length");
  if (facts.te_count == 0) return std::nullopt;
  if (facts.cl_count > 0) return bad("cl_and_te");
  if (version_minor == 0) return bad("te_http10");
  if (facts.te_malformed) return bad("invalid_transfer_encoding");
  if (is_request && facts.te_unknown) return parse_error{errc::not_implemented, "unknown_transfer_coding"};
  if (!facts.te_only_chunked || facts.chunked_count != 1) return bad("unsupported_transfer_encoding");
  f.chunked = true;
  return std::nullopt;
}

bool parse_version(std::string_view v, int& minor) noexcept {
  if (v == "HTTP/1.1")
    minor = 1;
  else if (v == "HTTP/1.0")
    minor = 0;
  else
    return false;
  return true;
}

}  // namespace

parse_state head_scanner::scan(std::string_view buf) noexcept {
  const std::size_t line_cap = lines_ == 0 ? limits_.max_request_line_bytes : limits_.max_field_bytes;
  while (pos_ < buf.size()) {
    const void* hit = std::memchr(buf.data() + pos_, '\n', buf.size() - pos_);
    if (!hit) {
      pos_ = buf.size();
      break;
    }
    const auto nl = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
    if (nl == 0 || buf[nl - 1] != '\r' || nl - 1 < line_start_) {
      error_ = bad("bare_lf");
      return parse_state::failed;
    }
    const std::size_t len = nl - 1 - line_start_;
    if (lines_ == 0) {
      if (len > limits_.max_request_line_bytes) {
        error_ = is_request_ ? parse_error{errc::uri_too_long, "request_line_too_long"}
                             : bad("status_line_too_long");
        return parse_state::failed;
      }
      if (len == 0) {
        error_ = bad("empty_request_line");
        return parse_state::failed;
      }
    } else {
      // Header bytes count everything after the request line, the final CRLF included, so the
      // verdict is the same however the head was split into reads (checked by the fuzzer).
      if (nl + 1 - first_line_end_ > limits_.max_header_bytes) {
        error_ = too_large("headers_too_large");
        return parse_state::failed;
      }
      if (len == 0) {
        end_ = nl + 1;
        return parse_state::complete;
      }
      if (len > limits_.max_field_bytes) {
        error_ = too_large("field_too_large");
        return parse_state::failed;
      }
      if (lines_ > limits_.max_header_count) {
        error_ = too_large("too_many_headers");
        return parse_state::failed;
      }
    }
    ++lines_;
    pos_ = line_start_ = nl + 1;
    if (lines_ == 1) first_line_end_ = pos_;
    if (pos_ - first_line_end_ > limits_.max_header_bytes) {
      error_ = too_large("headers_too_large");
      return parse_state::failed;
    }
  }
  // Incomplete: enforce the caps on what has arrived so far, so a huge line is refused early.
  const std::size_t partial = buf.size() - line_start_;
  if (lines_ == 0 && partial > line_cap + 1) {
    error_ =
        is_request_ ? parse_error{errc::uri_too_long, "request_line_too_long"} : bad("status_line_too_long");
    return parse_state::failed;
  }
  if (lines_ > 0 &&
      (partial > limits_.max_field_bytes + 1 || buf.size() - first_line_end_ > limits_.max_header_bytes)) {
    error_ = too_large(partial > limits_.max_field_bytes + 1 ? "field_too_large" : "headers_too_large");
    return parse_state::failed;
  }
  return parse_state::incomplete;
}

std::optional<parse_error> parse_request_head(std::string_view head, const head_limits& limits,
                                              request_head& out) {
  (void)limits;  // enforced by head_scanner while the head arrived
  reset_keeping_capacity(out);
  out.head_bytes = head.size();
  std::size_t pos = 0;
  const auto line = next_line(head, pos);
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return bad("invalid_request_line");
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return bad("invalid_request_line");
  out.method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!core::is_token(out.method)) return bad("invalid_method");
  if (target.empty()) return bad("invalid_target");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return bad("invalid_target");
  if (!parse_version(line.substr(sp2 + 1), out.version_minor)) return bad("invalid_version");

  field_facts facts;
  if (auto e = parse_fields(head, pos, out.fields, out.framing, facts)) return e;
  if (auto e = judge_body_framing(facts, out.framing, out.version_minor, true)) return e;
  if (facts.host_count == 0) return bad("missing_host");
  if (facts.host_count > 1) return bad("duplicate_host");
  if (!is_host_value(facts.host)) return bad("invalid_host");
  out.host = facts.host;

  if (target.front() != '/') {
    if (core::istarts_with(target, "http://") || core::istarts_with(target, "https://")) {
      // absolute-form: its authority must name the same host as Host, so that keygate and the
      // upstream cannot disagree about which host the request is for.
      target.remove_prefix(target.find("//") + 2);
      const auto slash = target.find('/');
      const auto authority = target.substr(0, slash);
      if (!core::iequals(authority, out.host)) return bad("host_mismatch");
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    } else if (!(target == "*" && out.method == "OPTIONS")) {
      return bad("invalid_target");
    }
  }
  out.target = target;
  out.expect_continue = facts.expect_continue;
  out.upgrade_websocket = facts.upgrade_websocket && out.framing.connection_upgrade;
  return std::nullopt;
}

std::optional<parse_error> parse_response_head(std::string_view head, const head_limits& limits,
                                               response_head& out) {
  (void)limits;
  reset_keeping_capacity(out);
  out.head_bytes = head.size();
  std::size_t pos = 0;
  const auto line = next_line(head, pos);
  if (line.size() < 12 || !parse_version(line.substr(0, 8), out.version_minor) || line[8] != ' ')
    return bad("invalid_status_line");
  unsigned status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return bad("invalid_status_line");
    status = status * 10 + static_cast<unsigned>(line[i] - '0');
  }
  if (status < 100 || status > 599) return bad("invalid_status_line");
  if (line.size() > 12) {
    if (line[12] != ' ') return bad("invalid_status_line");
    out.reason = line.substr(13);
    for (char c : out.reason)
      if (!is_value_byte(static_cast<unsigned char>(c))) return bad("invalid_status_line");
  }
  out.status = status;
  field_facts facts;
  if (auto e = parse_fields(head, pos, out.fields, out.framing, facts)) return e;
  if (auto e = judge_body_framing(facts, out.framing, out.version_minor, false)) return e;
  return std::nullopt;
}

std::string_view request_head::find(std::string_view name) const noexcept {
  for (const auto& f : fields)
    if (core::iequals(f.name, name)) return f.value;
  return {};
}

bool is_hop_by_hop(std::string_view name) noexcept {
  switch (name.size()) {
    case 2:
      return core::iequals(name, "te");
    case 7:
      return core::iequals(name, "trailer") || core::iequals(name, "upgrade");
    case 10:
      return core::iequals(name, "connection") || core::iequals(name, "keep-alive");
    case 16:
      return core::iequals(name, "proxy-connection");
    case 17:
      return core::iequals(name, "transfer-encoding");
    case 18:
      return core::iequals(name, "proxy-authenticate");
    case 19:
      return core::iequals(name, "proxy-authorization");
    default:
      return false;
  }
}

bool connection_names(const framing& f, std::string_view header_name) noexcept {
  for (auto t : f.connection_tokens)
    if (core::iequals(t, header_name)) return true;
  return false;
}

}  // namespace keygate::http

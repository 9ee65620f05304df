// Integration-test support: HTTP/1.1 message heads and bodies on the wire (test-side parser).
// Heads are parsed strictly enough to notice a malformed message from keygate (CRLF required);
// bodies (Content-Length, chunked, until-close) are read incrementally through a callback so that
// 50 MiB transfers are never held in memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "integration/support/net.hpp"

namespace keygate::itest {

struct header {
  std::string name;  // original case
  std::string value;
};
using header_list = std::vector<header>;

bool iequals(std::string_view a, std::string_view b);
std::string lower(std::string_view s);
std::string trim(std::string_view s);
// Comma-separated tokens of a field value, trimmed and lowercased.
std::vector<std::string> split_tokens(std::string_view value);

// A parsed start line + header fields.
struct message_head {
  // Requests: method, target, version. Responses: version, status, reason.
  std::string method, target, version;
  int status = 0;
  std::string reason;
  header_list headers;
  std::size_t head_bytes = 0;  // bytes of start line + fields + blank line

  std::optional<std::string> get(std::string_view name) const;  // first value
  std::vector<std::string> get_all(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return count(name) > 0; }
  bool chunked() const;  // last Transfer-Encoding coding is chunked
  std::optional<std::uint64_t> content_length() const;
  // Connection tokens contain "close" (or HTTP/1.0 without keep-alive).
  bool wants_close() const;
};

enum class parse_result { complete, incomplete, error };

// Parses a head at the start of `buf` (requests: is_request). On complete, head.head_bytes says
// how much of `buf` it used.
parse_result parse_head(std::string_view buf, bool is_request, message_head& head,
                        std::string* why = nullptr);

// Body framing of a message (RFC 9112 §6.3).
enum class body_kind { none, length, chunked, until_close };
body_kind request_body_kind(const message_head& h);
body_kind response_body_kind(const message_head& h, std::string_view request_method);

// Reads heads and bodies from a conn, keeping bytes read past a message for the next one.
class http_reader {
 public:
  explicit http_reader(conn& c) : c_(c) {}

  // nullopt on EOF/reset/timeout before a complete head, or a parse error (see last_status/error).
  std::optional<message_head> read_head(bool is_request, millis timeout);
  // Streams the body to on_data; false if the stream ended before the body did (or was malformed).
  // `timeout` bounds each wait for more bytes. Trailers, if any, are appended to *trailers.
  bool read_body(body_kind kind, std::uint64_t length, const std::function<void(std::string_view)>& on_data,
                 millis timeout, header_list* trailers = nullptr);

  std::string& buffer() { return buf_; }  // unread bytes
  io_status last_status() const { return last_; }
  const std::string& error() const { return error_; }
  std::uint64_t bytes_read() const { return total_; }
  // Also add every byte read to *counter (live, thread-safe), e.g. an upstream's total.
  void count_into(std::atomic<std::uint64_t>* counter) { counter_ = counter; }

 private:
  bool fill(millis timeout);  // reads more into buf_; false on EOF/reset/timeout
  conn& c_;
  std::string buf_;
  io_status last_ = io_status::data;
  std::string error_;
  std::uint64_t total_ = 0;
  std::atomic<std::uint64_t>* counter_ = nullptr;
};

// Serialises a chunked body piece ("<hex>\r\n<data>\r\n"); the last chunk is "0\r\n\r\n".
std::string chunk(std::string_view data);

// The deterministic body pattern used for large transfers: byte i of a body.
inline char pattern_byte(std::uint64_t i) {
  return static_cast<char>('A' + (i * 7 + i / 4093) % 26);
}
std::string pattern(std::uint64_t offset, std::size_t n);
// FNV-1a 64 over a stream.
struct fnv1a {
  std::uint64_t h = 1469598103934665603ull;
  void add(std::string_view d) {
    for (const char c : d) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
  }
};
std::uint64_t pattern_hash(std::uint64_t n);

}  // namespace keygate::itest

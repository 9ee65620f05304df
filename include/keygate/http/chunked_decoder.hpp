// keygate::http::chunked_decoder — strict incremental decoder for `Transfer-Encoding: chunked`
// bodies (RFC 9112 §7.1), used both for requests (client → keygate) and responses
// (upstream → keygate). keygate re-encodes what it decodes, so the peer on the other side only
// ever sees canonical chunking: no extensions, no trailers, no ambiguous sizes.
//
// Rejected: a size line that is not 1-16 hex digits (optionally followed by `;ext`), longer than
// `max_line_bytes`, without CRLF, a chunk not followed by CRLF, a trailer section larger than
// `max_line_bytes` or with malformed lines. Pure; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keygate::http {

class chunked_decoder {
 public:
  enum class status { need_more, data, done, error };

  struct step {
    status what = status::need_more;
    std::string_view data;     // for status::data: a piece of chunk data inside the input
    std::size_t consumed = 0;  // bytes of the input consumed by this step (data included)
  };

  explicit chunked_decoder(std::size_t max_line_bytes = 4096) noexcept : max_line_(max_line_bytes) {}

  // Decodes from `in` (unconsumed input). Call repeatedly, dropping `consumed` bytes each time,
  // until need_more (feed more input), done (body complete; the rest belongs to the next
  // message) or error.
  step next(std::string_view in) noexcept;
  std::uint64_t body_bytes() const noexcept { return total_; }

 private:
  enum class state { size_line, data, data_crlf, trailer_line, finished, failed };
  state state_ = state::size_line;
  std::uint64_t remaining_ = 0;
  std::uint64_t total_ = 0;
  std::size_t max_line_;
  std::size_t trailer_bytes_ = 0;
};

// Appends one chunk in canonical form ("<hex size>\r\n<data>\r\n"); `data` must not be empty.
void append_chunk(std::string& out, std::string_view data);

}  // namespace keygate::http

#include "keygate/http/chunked_decoder.hpp"

#include <cstring>

namespace keygate::http {
namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

chunked_decoder::step chunked_decoder::next(std::string_view in) noexcept {
  step s;
  switch (state_) {
    case state::size_line: {
      const auto nl = in.find('\n');
      if (nl == std::string_view::npos) {
        if (in.size() > max_line_) break;  // fall to error below
        return s;                          // need_more
      }
      if (nl == 0 || in[nl - 1] != '\r' || nl > max_line_) break;
      const auto line = in.substr(0, nl - 1);
      std::size_t i = 0;
      std::uint64_t size = 0;
      for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
        if (i == 16) {
          state_ = state::failed;
          s.what = status::error;
          return s;
        }
        size = (size << 4) | static_cast<std::uint64_t>(hex_value(line[i]));
      }
      if (i == 0) break;
      // Only chunk extensions may follow the size: ";name[=value]", any visible bytes, no CTLs.
      if (i < line.size()) {
        if (line[i] != ';' && line[i] != ' ' && line[i] != '\t') break;
        for (; i < line.size(); ++i) {
          const auto c = static_cast<unsigned char>(line[i]);
          if ((c < 0x20 && c != '\t') || c == 0x7f) {
            state_ = state::failed;
            s.what = status::error;
            return s;
          }
        }
      }
      s.consumed = nl + 1;
      remaining_ = size;
      state_ = size == 0 ? state::trailer_line : state::data;
      return s;  // need_more with consumed > 0: caller loops
    }
    case state::data: {
      if (in.empty()) return s;
      const auto n = static_cast<std::size_t>(remaining_ < in.size() ? remaining_ : in.size());
      remaining_ -= n;
      total_ += n;
      if (remaining_ == 0) state_ = state::data_crlf;
      s.what = status::data;
      s.data = in.substr(0, n);
      s.consumed = n;
      return s;
    }
    case state::data_crlf: {
      if (in.size() < 2) {
        if (in.size() == 1 && in[0] != '\r') break;
        return s;
      }
      if (in[0] != '\r' || in[1] != '\n') break;
      s.consumed = 2;
      state_ = state::size_line;
      return s;
    }
    case state::trailer_line: {
      const auto nl = in.find('\n');
      if (nl == std::string_view::npos) {
        if (trailer_bytes_ + in.size() > max_line_) break;
        return s;
      }
      if (nl == 0 || in[nl - 1] != '\r') break;
      trailer_bytes_ += nl + 1;
      if (trailer_bytes_ > max_line_) break;
      const auto line = in.substr(0, nl - 1);
      if (line.empty()) {
        state_ = state::finished;
        s.what = status::done;
        s.consumed = nl + 1;
        return s;
      }
      // A trailer field: must look like a field line; it is dropped (never forwarded).
      const auto colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos || line[0] == ' ' || line[0] == '\t') break;
      for (char c : line)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          state_ = state::failed;
          s.what = status::error;
          return s;
        }
      s.consumed = nl + 1;
      return s;
    }
    case state::finished:
      s.what = status::done;
      return s;
    case state::failed:
      break;
  }
  state_ = state::failed;
  s.what = status::error;
  s.consumed = 0;
  return s;
}

void append_chunk(std::string& out, std::string_view data) {
  static constexpr char hex[] = "0123456789abcdef";
  char size[16];
  int n = 0;
  for (std::size_t v = data.size(); v; v >>= 4) size[n++] = hex[v & 0xf];
  while (n) out += size[--n];
  out += "\r\n";
  out.append(data);
  out += "\r\n";
}

}  // namespace keygate::http

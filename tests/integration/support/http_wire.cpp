#include "integration/support/http_wire.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace keygate::itest {

namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool set_why(std::string* why, const char* text) {
  if (why) *why = text;
  return false;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split_tokens(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = value.find(',');
    auto t = lower(trim(value.substr(0, comma)));
    if (!t.empty()) out.push_back(std::move(t));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::string> message_head::get(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::vector<std::string> message_head::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : headers)
    if (iequals(h.name, name)) out.push_back(h.value);
  return out;
}

std::size_t message_head::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const header& h) { return iequals(h.name, name); }));
}

bool message_head::chunked() const {
  std::vector<std::string> codings;
  for (const auto& v : get_all("Transfer-Encoding"))
    for (auto& t : split_tokens(v)) codings.push_back(t);
  return !codings.empty() && codings.back() == "chunked";
}

std::optional<std::uint64_t> message_head::content_length() const {
  const auto v = get("Content-Length");
  if (!v) return std::nullopt;
  const auto t = trim(*v);
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc{} || p != t.data() + t.size() || t.empty()) return std::nullopt;
  return n;
}

bool message_head::wants_close() const {
  bool close = version == "HTTP/1.0";
  for (const auto& v : get_all("Connection"))
    for (const auto& t : split_tokens(v)) {
      if (t == "close") return true;
      if (t == "keep-alive") close = false;
    }
  return close;
}

parse_result parse_head(std::string_view buf, bool is_request, message_head& head, std::string* why) {
  const auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A bare-LF head would never complete: call it an error once it clearly ended.
    if (buf.find("\n\n") != std::string_view::npos) {
      set_why(why, "head terminated by bare LF");
      return parse_result::error;
    }
    return parse_result::incomplete;
  }
  head = {};
  head.head_bytes = end + 4;
  std::string_view text = buf.substr(0, end + 2);
  auto next_line = [&](std::string_view& line) {
    const auto eol = text.find("\r\n");
    line = text.substr(0, eol);
    text.remove_prefix(eol + 2);
  };
  std::string_view line;
  next_line(line);
  if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
    return set_why(why, "bare CR/LF in start line"), parse_result::error;
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return set_why(why, "bad start line"), parse_result::error;
  if (is_request) {
    const auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return set_why(why, "bad request line"), parse_result::error;
    head.method = std::string(line.substr(0, sp1));
    head.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    head.version = std::string(line.substr(sp2 + 1));
  } else {
    head.version = std::string(line.substr(0, sp1));
    const auto rest = line.substr(sp1 + 1);
    const auto sp2 = rest.find(' ');
    const auto code = rest.substr(0, sp2);
    if (code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return set_why(why, "bad status code"), parse_result::error;
    head.status = std::stoi(std::string(code));
    head.reason = sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1));
  }
  if (head.version != "HTTP/1.1" && head.version != "HTTP/1.0")
    return set_why(why, "bad version"), parse_result::error;
  while (!text.empty()) {
    next_line(line);
    if (line.empty()) continue;
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
      return set_why(why, "bare CR/LF in a field"), parse_result::error;
    if (line.front() == ' ' || line.front() == '\t') return set_why(why, "obs-fold"), parse_result::error;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return set_why(why, "field without name"), parse_result::error;
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_tchar))
      return set_why(why, "bad field name"), parse_result::error;
    const auto value = trim(line.substr(colon + 1));
    for (const char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return set_why(why, "control byte in field value"), parse_result::error;
    head.headers.push_back({std::string(name), value});
  }
  return parse_result::complete;
}

body_kind request_body_kind(const message_head& h) {
  if (h.has("Transfer-Encoding")) return h.chunked() ? body_kind::chunked : body_kind::until_close;
  if (h.has("Content-Length")) return body_kind::length;
  return body_kind::none;
}

body_kind response_body_kind(const message_head& h, std::string_view request_method) {
  if (request_method == "HEAD" || (h.status >= 100 && h.status < 200) || h.status == 204 || h.status == 304)
    return body_kind::none;
  if (h.has("Transfer-Encoding")) return h.chunked() ? body_kind::chunked : body_kind::until_close;
  if (h.has("Content-Length")) return body_kind::length;
  return body_kind::until_close;
}

bool http_reader::fill(millis timeout) {
  const auto before = buf_.size();
  last_ = c_.read_some(buf_, timeout);
  total_ += buf_.size() - before;
  if (counter_) *counter_ += buf_.size() - before;
  return last_ == io_status::data;
}

std::optional<message_head> http_reader::read_head(bool is_request, millis timeout) {
  const auto deadline = steady::now() + timeout;
  error_.clear();
  while (true) {
    message_head head;
    std::string why;
    const auto r = parse_head(buf_, is_request, head, &why);
    if (r == parse_result::complete) {
      buf_.erase(0, head.head_bytes);
      return head;
    }
    if (r == parse_result::error) {
      error_ = why;
      return std::nullopt;
    }
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (left.count() <= 0) {
      last_ = io_status::timeout;
      error_ = "timeout waiting for a head";
      return std::nullopt;
    }
    if (!fill(left)) {
      error_ = std::string("stream ended before a complete head: ") + to_string(last_);
      return std::nullopt;
    }
  }
}

bool http_reader::read_body(body_kind kind, std::uint64_t length,
                            const std::function<void(std::string_view)>& on_data, millis timeout,
                            header_list* trailers) {
  switch (kind) {
    case body_kind::none:
      return true;
    case body_kind::until_close:
      while (true) {
        if (!buf_.empty()) {
          on_data(buf_);
          buf_.clear();
        }
        if (!fill(timeout)) return last_ == io_status::closed;
      }
    case body_kind::length: {
      std::uint64_t left = length;
      while (left > 0) {
        if (buf_.empty() && !fill(timeout)) {
          error_ = "body ended early";
          return false;
        }
        const auto n = std::min<std::uint64_t>(left, buf_.size());
        on_data(std::string_view(buf_).substr(0, n));
        buf_.erase(0, n);
        left -= n;
      }
      return true;
    }
    case body_kind::chunked:
      while (true) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (buf_.size() > 4096) {
            error_ = "chunk-size line too long";
            return false;
          }
          if (!fill(timeout)) {
            error_ = "stream ended in a chunk-size line";
            return false;
          }
        }
        std::string_view size_text(buf_.data(), eol);
        size_text = size_text.substr(0, size_text.find(';'));
        const auto t = trim(size_text);
        std::uint64_t size = 0;
        const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), size, 16);
        if (t.empty() || ec != std::errc{} || p != t.data() + t.size()) {
          error_ = "bad chunk size";
          return false;
        }
        buf_.erase(0, eol + 2);
        if (size == 0) {
          // trailer section up to the empty line
          while (true) {
            while ((eol = buf_.find("\r\n")) == std::string::npos)
              if (!fill(timeout)) {
                error_ = "stream ended in trailers";
                return false;
              }
            if (eol == 0) {
              buf_.erase(0, 2);
              return true;
            }
            const std::string_view line(buf_.data(), eol);
            const auto colon = line.find(':');
            if (trailers && colon != std::string_view::npos)
              trailers->push_back({std::string(line.substr(0, colon)), trim(line.substr(colon + 1))});
            buf_.erase(0, eol + 2);
          }
        }
        std::uint64_t left = size;
        while (left > 0) {
          if (buf_.empty() && !fill(timeout)) {
            error_ = "stream ended inside a chunk";
            return false;
          }
          const auto n = std::min<std::uint64_t>(left, buf_.size());
          on_data(std::string_view(buf_).substr(0, n));
          buf_.erase(0, n);
          left -= n;
        }
        while (buf_.size() < 2)
          if (!fill(timeout)) {
            error_ = "stream ended after chunk data";
            return false;
          }
        if (buf_.compare(0, 2, "\r\n") != 0) {
          error_ = "chunk data not followed by CRLF";
          return false;
        }
        buf_.erase(0, 2);
      }
  }
  return false;
}

std::string chunk(std::string_view data) {
  char hex[32];
  const auto [p, ec] = std::to_chars(hex, hex + sizeof hex, data.size(), 16);
  (void)ec;
  std::string out(hex, p);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

std::string pattern(std::uint64_t offset, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(offset + i);
  return out;
}

std::uint64_t pattern_hash(std::uint64_t n) {
  fnv1a h;
  constexpr std::size_t piece = 256 * 1024;
  for (std::uint64_t off = 0; off < n; off += piece)
    h.add(pattern(off, static_cast<std::size_t>(std::min<std::uint64_t>(piece, n - off))));
  return h.h;
}

}  // namespace keygate::itest

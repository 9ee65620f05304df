// parse_redis_url / make_redis_options (declared in keygate/cache/redis_client.hpp).
// Accepted: redis://host[:port][/db] with host a name, an IPv4 literal or "[IPv6 literal]";
// port 1..65535 (default 6379), db any non-negative integer (default 0; Redis checks the range).
// Credentials, query strings and other schemes are rejected rather than silently ignored.
#include <charconv>
#include <limits>

#include "keygate/cache/redis_client.hpp"

namespace keygate::cache {

namespace {

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

result<redis_options> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) return errc::invalid_argument;
  std::string_view rest = url.substr(scheme.size());
  if (rest.find_first_of("@?#") != std::string_view::npos) return errc::invalid_argument;

  redis_options o;
  std::string_view authority = rest, path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return errc::invalid_argument;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return errc::invalid_argument;
      port = after.substr(1);
      if (port.empty()) return errc::invalid_argument;
    }
  } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return errc::invalid_argument;
  }
  if (host.empty()) return errc::invalid_argument;
  o.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_int(port, value) || value == 0 || value > std::numeric_limits<std::uint16_t>::max())
      return errc::invalid_argument;
    o.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    int db = -1;
    if (!parse_int(path, db) || db < 0) return errc::invalid_argument;
    o.db = db;
  }
  return o;
}

result<redis_options> make_redis_options(const config::redis& cfg) {
  auto o = parse_redis_url(cfg.url);
  if (!o) return o;
  if (cfg.timeout.count() > 0) o->timeout = cfg.timeout;
  return o;
}

}  // namespace keygate::cache

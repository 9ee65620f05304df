#include "config/validate.hpp"

#include <charconv>
#include <set>

namespace keygate::config {

std::string endpoint::to_string() const {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

bool parse_upstream_url(upstream& u) {
  std::string_view rest = u.url;
  if (rest.rfind("http://", 0) == 0) {
    u.scheme = url_scheme::http;
    u.port = 80;
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    u.scheme = url_scheme::https;
    u.port = 443;
    rest.remove_prefix(8);
  } else {
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return false;
      port = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (!port.empty() || rest.back() == ':') {
    unsigned p = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535) return false;
    u.port = static_cast<std::uint16_t>(p);
  }
  u.host = std::string(host);
  return true;
}

void validate_cross_references(config& cfg, node_reader& r) {
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    auto& rt = cfg.routes[i];
    bool found = false;
    for (std::size_t u = 0; u < cfg.upstreams.size(); ++u) {
      if (cfg.upstreams[u].name == rt.upstream) {
        rt.upstream_index = u;
        found = true;
      }
    }
    if (!found && !rt.upstream.empty())
      r.error_at("routes[" + std::to_string(i) + "].upstream", "unknown upstream '" + rt.upstream + "'");
    if (rt.strip_prefix && !rt.match.prefix)
      r.error_at("routes[" + std::to_string(i) + "].strip_prefix", "needs match.prefix");
  }
  if (cfg.store.postgres && cfg.store.sqlite)
    r.error_at("store", "configure exactly one of postgres or sqlite");
  if (cfg.store.postgres && cfg.store.postgres->query_timeout <= duration::zero())
    r.error_at("store.postgres.query_timeout", "must be greater than 0");
  if (cfg.store.sqlite && cfg.store.sqlite->query_timeout <= duration::zero())
    r.error_at("store.sqlite.query_timeout", "must be greater than 0");
  std::set<std::string> prefixes;
  for (const auto& p : cfg.auth.key_prefixes)
    if (!prefixes.insert(p.prefix).second)
      r.error_at("auth.key_prefixes", "duplicate prefix '" + p.prefix + "'");
  std::set<std::string> token_names;
  for (const auto& t : cfg.internal.service_tokens)
    if (!token_names.insert(t.name).second)
      r.error_at("internal.service_tokens", "duplicate token name '" + t.name + "'");
  if (cfg.server.listen.to_string() == cfg.internal.listen.to_string())
    r.error_at("internal.listen", "must differ from server.listen");
}

}  // namespace keygate::config

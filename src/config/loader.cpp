#include "keygate/config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "config/node_reader.hpp"
#include "config/validate.hpp"
#include "keygate/core/text.hpp"

namespace keygate::config {

load_error::load_error(std::vector<std::string> errors)
    : std::runtime_error(errors.empty() ? std::string("invalid configuration") : errors.front()),
      errors_(std::move(errors)) {}

std::optional<duration> parse_duration(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || p == text.data()) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else if (unit == "d")
    factor = 86'400'000;
  else
    return std::nullopt;
  if (value > (std::uint64_t{1} << 40) / factor) return std::nullopt;  // ~35 years: nonsense
  return duration(static_cast<duration::rep>(value * factor));
}

namespace {

void read_limits(node_reader& r, const YAML::Node& n, limits& out) {
  r.object(n, {"max_request_line_bytes", "max_field_bytes", "max_header_bytes", "max_header_count",
               "max_body_bytes", "header_timeout", "body_idle_timeout", "idle_timeout", "max_connections",
               "drain_timeout"});
  r.size(n, "max_request_line_bytes", out.max_request_line_bytes, 64, 1 << 20);
  r.size(n, "max_field_bytes", out.max_field_bytes, 64, 1 << 20);
  r.size(n, "max_header_bytes", out.max_header_bytes, 256, 1 << 22);
  r.size(n, "max_header_count", out.max_header_count, 1, 10000);
  std::size_t body = out.max_body_bytes;
  r.size(n, "max_body_bytes", body, 0, std::size_t{1} << 40);
  out.max_body_bytes = body;
  r.dur(n, "header_timeout", out.header_timeout);
  r.dur(n, "body_idle_timeout", out.body_idle_timeout);
  r.dur(n, "idle_timeout", out.idle_timeout);
  r.size(n, "max_connections", out.max_connections, 1, 10'000'000);
  r.dur(n, "drain_timeout", out.drain_timeout);
}

void read_server(node_reader& r, const YAML::Node& n, server& out) {
  r.object(n, {"listen", "workers", "tls", "limits", "trusted_proxies", "underscore_headers"});
  r.endpoint_of(n, "listen", out.listen);
  std::size_t workers = out.workers;
  r.size(n, "workers", workers, 0, 256);
  out.workers = static_cast<unsigned>(workers);
  if (auto tls = r.child(n, "tls")) {
    r.object(*tls, {"cert_file", "key_file"});
    tls_files files;
    r.required_string(*tls, "cert_file", files.cert_file);
    r.required_string(*tls, "key_file", files.key_file);
    out.tls = files;
    r.leave();
  }
  if (auto l = r.child(n, "limits")) {
    read_limits(r, *l, out.limits);
    r.leave();
  } else {
    r.enter("limits");  // absent: defaults, but env overrides still apply
    read_limits(r, YAML::Node(YAML::NodeType::Map), out.limits);
    r.leave();
  }
  for (const auto& [text, path] : r.string_list(n, "trusted_proxies")) {
    if (auto c = core::cidr::parse(text))
      out.trusted_proxies.push_back(*c);
    else
      r.error_at(path, "expected an IP address or CIDR, got '" + text + "'");
  }
  r.one_of(n, "underscore_headers", out.underscore_headers,
           {{"drop", underscore_policy::drop},
            {"reject", underscore_policy::reject},
            {"allow", underscore_policy::allow}});
}

void read_internal(node_reader& r, const YAML::Node& n, internal& out) {
  r.object(n, {"listen", "service_tokens"});
  r.endpoint_of(n, "listen", out.listen);
  r.each(n, "service_tokens", [&](const YAML::Node& t) {
    r.object(t, {"name", "sha256"});
    service_token tok;
    r.required_string(t, "name", tok.name);
    r.required_string(t, "sha256", tok.sha256);
    if (!core::is_sha256_hex(tok.sha256)) r.error_here("sha256", "expected 64 lowercase hex characters");
    out.service_tokens.push_back(std::move(tok));
  });
}

// store.postgres from its map, or from an absent one (then only KEYGATE_STORE_POSTGRES_* apply).
postgres read_postgres(node_reader& r, const YAML::Node& pg) {
  r.object(pg, {"url", "pool_size", "query_timeout", "listen_notify"});
  postgres p;
  r.required_string(pg, "url", p.url);
  std::size_t pool = p.pool_size;
  r.size(pg, "pool_size", pool, 1, 256);
  p.pool_size = static_cast<unsigned>(pool);
  r.dur(pg, "query_timeout", p.query_timeout);
  r.boolean(pg, "listen_notify", p.listen_notify);
  return p;
}

void read_store(node_reader& r, const YAML::Node& n, store& out) {
  r.object(n, {"postgres", "sqlite"});
  if (auto pg = r.child(n, "postgres")) {
    out.postgres = read_postgres(r, *pg);
    r.leave();
  } else if (r.env_override("store.postgres.url")) {
    r.enter("postgres");
    out.postgres = read_postgres(r, YAML::Node());
    r.leave();
  }
  if (auto sq = r.child(n, "sqlite")) {
    r.object(*sq, {"path", "readers", "query_timeout", "busy_timeout"});
    sqlite s;
    r.required_string(*sq, "path", s.path);
    std::size_t readers = s.readers;
    r.size(*sq, "readers", readers, 1, 64);
    s.readers = static_cast<unsigned>(readers);
    r.dur(*sq, "query_timeout", s.query_timeout);
    r.dur(*sq, "busy_timeout", s.busy_timeout);
    out.sqlite = s;
    r.leave();
  }
}

void read_cache(node_reader& r, const YAML::Node& n, cache& out) {
  r.object(n, {"local", "redis", "positive_ttl", "negative_ttl"});
  if (auto l = r.child(n, "local")) {
    r.object(*l, {"capacity", "ttl"});
    r.size(*l, "capacity", out.local.capacity, 16, 100'000'000);
    r.dur(*l, "ttl", out.local.ttl);
    r.leave();
  }
  if (auto rd = r.child(n, "redis")) {
    r.object(*rd, {"url", "namespace", "timeout"});
    redis red;
    r.required_string(*rd, "url", red.url);
    r.string(*rd, "namespace", red.namespace_);
    r.dur(*rd, "timeout", red.timeout);
    if (red.url.rfind("redis://", 0) != 0) r.error_here("url", "expected redis://host:port[/db]");
    out.redis = red;
    r.leave();
  } else if (auto url = r.env_override("cache.redis.url")) {
    out.redis = redis{*url};
  }
  r.dur(n, "positive_ttl", out.positive_ttl);
  r.dur(n, "negative_ttl", out.negative_ttl);
}

void read_auth(node_reader& r, const YAML::Node& n, auth& out) {
  r.object(n, {"key_prefixes", "api_key_header", "session_cookie", "hide_credentials",
               "identity_header_prefix", "assertion", "last_used_debounce", "on_store_unavailable",
               "max_stale", "uniform_errors", "max_keys_per_user"});
  r.each(n, "key_prefixes", [&](const YAML::Node& p) {
    key_prefix kp;
    if (p.IsScalar()) {
      kp.prefix = p.Scalar();
    } else {
      r.object(p, {"prefix", "checksum"});
      r.required_string(p, "prefix", kp.prefix);
      r.boolean(p, "checksum", kp.checksum);
    }
    if (!core::is_valid_key_prefix(kp.prefix))
      r.error_here("prefix", "expected 1-32 characters of [a-z0-9_] not ending in '_'");
    out.key_prefixes.push_back(kp);
  });
  r.string(n, "api_key_header", out.api_key_header);
  if (!out.api_key_header.empty() && !core::is_token(out.api_key_header))
    r.error_here("api_key_header", "expected an HTTP header name");
  r.string(n, "session_cookie", out.session_cookie);
  r.boolean(n, "hide_credentials", out.hide_credentials);
  r.string(n, "identity_header_prefix", out.identity_header_prefix);
  if (out.identity_header_prefix.size() < 2 || !core::is_token(out.identity_header_prefix))
    r.error_here("identity_header_prefix", "expected a header-name prefix such as X-Keygate-");
  if (auto a = r.child(n, "assertion")) {
    r.object(*a, {"signing_key_file", "audience", "ttl"});
    assertion as;
    r.string(*a, "signing_key_file", as.signing_key_file);
    r.required_string(*a, "audience", as.audience);
    r.dur(*a, "ttl", as.ttl);
    out.assertion = as;
    r.leave();
  }
  r.dur(n, "last_used_debounce", out.last_used_debounce);
  r.one_of(n, "on_store_unavailable", out.on_store_unavailable,
           {{"deny", store_unavailable::deny}, {"serve_cached", store_unavailable::serve_cached}});
  r.dur(n, "max_stale", out.max_stale);
  r.boolean(n, "uniform_errors", out.uniform_errors);
  r.size(n, "max_keys_per_user", out.max_keys_per_user, 1, 100000);
}

void read_upstreams(node_reader& r, const YAML::Node& n, std::vector<upstream>& out) {
  if (!n) return;
  if (!n.IsMap()) {
    r.error_here("", "expected a map of name → upstream");
    return;
  }
  for (const auto& entry : n) {
    upstream u;
    u.name = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    r.enter(u.name);
    r.object(v, {"url", "connect_timeout", "response_timeout", "max_idle", "tls_verify", "ca_file"});
    r.required_string(v, "url", u.url);
    if (!u.url.empty() && !parse_upstream_url(u))
      r.error_here("url", "expected http://host:port or https://host:port (no path), got '" + u.url + "'");
    r.dur(v, "connect_timeout", u.connect_timeout);
    r.dur(v, "response_timeout", u.response_timeout);
    r.size(v, "max_idle", u.max_idle, 0, 100000);
    r.boolean(v, "tls_verify", u.tls_verify);
    r.string(v, "ca_file", u.ca_file);
    r.leave();
    out.push_back(std::move(u));
  }
}

void read_routes(node_reader& r, const YAML::Node& n, config& cfg) {
  r.each(n, "routes", [&](const YAML::Node& v) {
    route rt;
    r.object(v, {"match", "upstream", "auth", "scopes", "min_role", "strip_prefix", "mode"});
    if (auto m = r.child(v, "match")) {
      r.object(*m, {"prefix", "exact", "methods", "host"});
      std::string s;
      if (r.string(*m, "prefix", s)) rt.match.prefix = s;
      if (r.string(*m, "exact", s)) rt.match.exact = s;
      if (rt.match.prefix.has_value() == rt.match.exact.has_value())
        r.error_here("", "exactly one of prefix or exact is required");
      for (const auto* p : {&rt.match.prefix, &rt.match.exact})
        if (p->has_value() && (p->value().empty() || p->value()[0] != '/'))
          r.error_here("", "paths must start with '/'");
      for (auto& [method, path] : r.string_list(*m, "methods")) {
        if (!core::is_token(method)) r.error_at(path, "expected an HTTP method");
        rt.match.methods.push_back(method);
      }
      if (r.string(*m, "host", s)) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        rt.match.host = s;
      }
      r.leave();
    } else {
      r.error_here("match", "is required");
    }
    r.required_string(v, "upstream", rt.upstream);
    r.one_of(v, "auth", rt.auth,
             {{"required", auth_requirement::required},
              {"optional", auth_requirement::optional},
              {"none", auth_requirement::none}});
    for (auto& [scope, path] : r.string_list(v, "scopes")) {
      if (!core::is_valid_scope(scope)) r.error_at(path, "invalid scope '" + scope + "'");
      rt.scopes.push_back(scope);
    }
    std::string role_text;
    if (r.string(v, "min_role", role_text)) {
      rt.min_role = core::parse_role(role_text);
      if (!rt.min_role) r.error_here("min_role", "expected viewer, member, admin or owner");
    }
    r.boolean(v, "strip_prefix", rt.strip_prefix);
    r.one_of(v, "mode", rt.mode, {{"enforce", route_mode::enforce}, {"shadow", route_mode::shadow}});
    rt.name = std::to_string(cfg.routes.size()) + ":" + rt.match.prefix.value_or(rt.match.exact.value_or(""));
    cfg.routes.push_back(std::move(rt));
  });
}

void read_log(node_reader& r, const YAML::Node& n, log& out) {
  r.object(n, {"level", "format", "access_log"});
  r.string(n, "level", out.level);
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!levels.count(out.level))
    r.error_here("level", "expected one of trace|debug|info|warn|error|critical|off");
  r.one_of(n, "format", out.format, {{"json", log_format::json}, {"text", log_format::text}});
  r.boolean(n, "access_log", out.access_log);
}

// Reads one top-level section; a missing section still gets its env overrides applied.
template <class Fn>
void section(node_reader& r, const YAML::Node& root, const char* name, Fn&& fn) {
  auto n = r.child(root, name);
  if (!n) {
    n = YAML::Node(YAML::NodeType::Map);
    r.enter(name);
  }
  fn(*n);
  r.leave();
}

}  // namespace

config load_string(std::string_view yaml, const env_lookup& env, std::string source) {
  const env_lookup lookup = env ? env : [](const char* name) -> const char* { return std::getenv(name); };
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw load_error({source + ": not valid YAML: " + e.what()});
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);

  config cfg;
  cfg.source = std::move(source);
  node_reader r(lookup);
  r.object(root, {"server", "internal", "store", "cache", "auth", "upstreams", "routes", "log"});
  section(r, root, "server", [&](const YAML::Node& n) { read_server(r, n, cfg.server); });
  section(r, root, "internal", [&](const YAML::Node& n) { read_internal(r, n, cfg.internal); });
  section(r, root, "store", [&](const YAML::Node& n) { read_store(r, n, cfg.store); });
  section(r, root, "cache", [&](const YAML::Node& n) { read_cache(r, n, cfg.cache); });
  section(r, root, "auth", [&](const YAML::Node& n) { read_auth(r, n, cfg.auth); });
  if (auto u = r.child(root, "upstreams")) {
    read_upstreams(r, *u, cfg.upstreams);
    r.leave();
  }
  read_routes(r, root, cfg);
  section(r, root, "log", [&](const YAML::Node& n) { read_log(r, n, cfg.log); });

  validate_cross_references(cfg, r);
  if (!r.errors().empty()) throw load_error(r.take_errors(cfg.source));
  return cfg;
}

config load_file(const std::string& path, const env_lookup& env) {
  std::ifstream in(path);
  if (!in) throw load_error({path + ": cannot open configuration file"});
  std::ostringstream text;
  text << in.rdbuf();
  return load_string(text.str(), env, path);
}

std::string resolve_path(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("KEYGATE_CONFIG"); env && *env) return env;
  throw load_error({"no configuration file: pass --config FILE or set KEYGATE_CONFIG"});
}

}  // namespace keygate::config

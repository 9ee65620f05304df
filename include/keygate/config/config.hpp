// keygate::config — the immutable configuration value (SPEC §2).
//
// A `config` is built once by `load()` (loader.hpp), fully validated, and then shared read-only
// (std::shared_ptr<const config>) by every worker. Reloads build a new value and swap the pointer;
// nothing here is ever mutated after loading.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keygate/core/cidr.hpp"
#include "keygate/core/role.hpp"

namespace keygate::config {

using duration = std::chrono::milliseconds;

struct endpoint {
  std::string host;  // literal address or name; "0.0.0.0", "127.0.0.1", "::1"
  std::uint16_t port = 0;
  std::string to_string() const;
};

struct tls_files {
  std::string cert_file;
  std::string key_file;
};

struct limits {
  std::size_t max_request_line_bytes = 8 * 1024;
  std::size_t max_field_bytes = 8 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 100;
  std::uint64_t max_body_bytes = 10ull * 1024 * 1024;
  duration header_timeout = std::chrono::seconds(10);
  duration body_idle_timeout = std::chrono::seconds(30);
  duration idle_timeout = std::chrono::seconds(60);
  std::size_t max_connections = 10000;
  duration drain_timeout = std::chrono::seconds(15);
};

// What to do with inbound header names containing '_' (SPEC §4).
enum class underscore_policy { drop, reject, allow };

struct server {
  endpoint listen{"0.0.0.0", 8080};
  unsigned workers = 0;  // 0 = number of cores
  std::optional<tls_files> tls;
  struct limits limits;
  std::vector<core::cidr> trusted_proxies;
  underscore_policy underscore_headers = underscore_policy::drop;
};

struct service_token {
  std::string name;
  std::string sha256;  // 64 lowercase hex of the token
};

struct internal {
  endpoint listen{"127.0.0.1", 9901};
  std::vector<service_token> service_tokens;
};

struct postgres {
  std::string url;
  unsigned pool_size = 4;
  duration query_timeout = std::chrono::milliseconds(500);
  // LISTEN for the change notifications of migrations/0002 (direct SQL edits revoke everywhere).
  bool listen_notify = true;
};

struct sqlite {
  std::string path;
  // Reader threads for lookups that would wait for a lock and for blocking lookups (the data
  // plane normally reads on each worker's own connection).
  unsigned readers = 2;
  duration query_timeout = std::chrono::milliseconds(1000);  // per statement and per queued job
  duration busy_timeout = std::chrono::milliseconds(5000);   // wait for another process's lock
};

// Exactly one backend is configured (validated by the loader).
struct store {
  std::optional<struct postgres> postgres;
  std::optional<struct sqlite> sqlite;
};

struct local_cache {
  std::size_t capacity = 100000;
  duration ttl = std::chrono::seconds(5);
};

struct redis {
  std::string url;
  std::string namespace_ = "keygate";
  duration timeout = std::chrono::milliseconds(50);
};

struct cache {
  local_cache local;
  std::optional<struct redis> redis;  // absent: single instance, local cache only
  duration positive_ttl = std::chrono::seconds(60);
  duration negative_ttl = std::chrono::seconds(10);
};

struct key_prefix {
  std::string prefix;    // lowercase [a-z0-9_], without the trailing '_'
  bool checksum = true;  // false for imported keys whose format has no CRC
};

struct assertion {
  std::string signing_key_file;  // empty: generate a key at start (with a warning)
  std::string audience;
  duration ttl = std::chrono::seconds(60);
};

enum class store_unavailable { deny, serve_cached };

struct auth {
  std::vector<key_prefix> key_prefixes;
  std::string api_key_header = "X-API-Key";
  std::string session_cookie = "keygate_session";
  bool hide_credentials = true;
  std::string identity_header_prefix = "X-Keygate-";
  std::optional<struct assertion> assertion;
  duration last_used_debounce = std::chrono::minutes(5);
  store_unavailable on_store_unavailable = store_unavailable::deny;
  duration max_stale = std::chrono::minutes(5);  // only with serve_cached
  bool uniform_errors = false;
  std::size_t max_keys_per_user = 25;  // default for tenants without their own limit
};

enum class url_scheme { http, https };

struct upstream {
  std::string name;
  std::string url;  // as written
  url_scheme scheme = url_scheme::http;
  std::string host;
  std::uint16_t port = 80;
  duration connect_timeout = std::chrono::seconds(2);
  duration response_timeout = std::chrono::seconds(30);
  std::size_t max_idle = 64;
  bool tls_verify = true;
  std::string ca_file;  // extra trust anchors for https upstreams (PEM); empty = system store
};

enum class auth_requirement { required, optional, none };
enum class route_mode { enforce, shadow };

struct route_match {
  std::optional<std::string> prefix;  // exactly one of prefix / exact
  std::optional<std::string> exact;
  std::vector<std::string> methods;  // empty = any
  std::optional<std::string> host;   // case-insensitive, port ignored
};

struct route {
  route_match match;
  std::string upstream;          // name in `upstreams`
  std::size_t upstream_index{};  // resolved index into config::upstreams
  auth_requirement auth = auth_requirement::required;
  std::vector<std::string> scopes;
  std::optional<core::role> min_role;
  bool strip_prefix = false;
  route_mode mode = route_mode::enforce;
  std::string name;  // for metrics/logs: "<index>:<prefix|exact>"
};

enum class log_format { json, text };

struct log {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  log_format format = log_format::json;
  bool access_log = true;
};

struct config {
  struct server server;
  struct internal internal;
  struct store store;
  struct cache cache;
  struct auth auth;
  std::vector<upstream> upstreams;  // in file order
  std::vector<route> routes;        // first match wins
  struct log log;
  std::string source;  // the file it was loaded from
};

}  // namespace keygate::config

// Integration-test support: a running `keygate serve` with a generated config.
//
//   recording_upstream up;
//   gateway gw(gateway_config{}.upstream("app", up.url()).route("{match: {prefix: /}, upstream: app, auth:
//   none}")); ASSERT_TRUE(gw.started()) << gw.log(); http_client c(gw.port());
//
// The config has public + internal listeners on free 127.0.0.1 ports, `workers: 1`, short
// timeouts, the given upstreams/routes, JSON access logging and no `store` section. keygate's
// stdout+stderr go to a log file that is printed when the current test has failed.
//
// Auth-path suites add the store, cache and auth sections (each rendered only when set):
//   gateway_config{}.store_postgres(db.url())
//       .cache_redis(redis_url, "kgt:unique-ns", "50ms").cache_local("ttl", "200ms")
//       .cache("positive_ttl", "1s").auth("last_used_debounce", "1s")
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/net.hpp"
#include "integration/support/process.hpp"

namespace keygate::itest {

struct gateway_config {
  int workers = 1;
  // name → settings ("url" is required; connect_timeout/response_timeout default to 1s/10s).
  std::map<std::string, std::map<std::string, std::string>> upstreams;
  std::vector<std::string> routes;  // YAML flow maps, in order
  // server.limits overrides (values as YAML scalars), merged over the fixture's short defaults.
  std::map<std::string, std::string> limits;
  std::vector<std::string> server_extra;  // extra "key: value" lines under `server:`
  std::string log_level = "info";

  // `store.postgres` (url + settings such as pool_size, query_timeout); absent when url is empty.
  std::string postgres_url;
  std::map<std::string, std::string> postgres_settings;
  std::string sqlite_path;  // `store.sqlite.path`; absent when empty
  // `cache.redis` {url, namespace, timeout}; absent when redis_url is empty.
  std::string redis_url, redis_namespace, redis_timeout;
  std::map<std::string, std::string> cache_local_settings;  // cache.local: capacity, ttl
  std::map<std::string, std::string> cache_settings;        // cache: positive_ttl, negative_ttl
  std::map<std::string, std::string> auth_settings;         // auth: key → YAML value (flow style)

  gateway_config& upstream(const std::string& name, const std::string& url,
                           std::map<std::string, std::string> settings = {});
  gateway_config& route(const std::string& flow_map);
  // Shorthand: {match: {prefix: P}, upstream: U, auth: none}.
  gateway_config& prefix_route(const std::string& prefix, const std::string& upstream_name);
  gateway_config& limit(const std::string& key, const std::string& value);
  gateway_config& server(const std::string& line);
  gateway_config& store_postgres(const std::string& url, std::map<std::string, std::string> settings = {});
  gateway_config& store_sqlite(const std::string& path);
  gateway_config& cache_redis(const std::string& url, const std::string& ns,
                              const std::string& timeout = "50ms");
  gateway_config& cache_local(const std::string& key, const std::string& value);
  gateway_config& cache(const std::string& key, const std::string& value);
  gateway_config& auth(const std::string& key, const std::string& value);

  std::string render(unsigned short public_port, unsigned short internal_port) const;
};

class gateway {
 public:
  explicit gateway(gateway_config cfg, std::chrono::milliseconds start_timeout = std::chrono::seconds(15));
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  bool started() const { return started_; }
  unsigned short port() const { return public_port_; }
  unsigned short internal_port() const { return internal_port_; }
  int pid() const { return proc_ ? proc_->pid() : -1; }
  const std::string& config_path() const { return config_path_; }
  const gateway_config& config() const { return cfg_; }
  const temp_dir& dir() const { return dir_; }

  std::string log() const;
  std::size_t log_size() const { return log().size(); }
  // Polls the log (from byte `from`) until it contains `needle`; true if it did within timeout.
  bool wait_for_log(const std::string& needle, millis timeout, std::size_t from = 0) const;

  bool running();
  void signal(int sig);
  std::optional<int> wait_exit(millis timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. The exit code (nullopt if it had to be killed).
  std::optional<int> stop(millis grace = 10s);

  // Resident set size of the keygate process (VmRSS) in KiB; nullopt once gone.
  std::optional<long> rss_kib() const;

  // Rewrites the config file with the same listen ports (then signal(SIGHUP) to reload).
  void rewrite_config(const gateway_config& cfg);
  void rewrite_config_text(const std::string& yaml);

 private:
  bool start_once(millis timeout);

  gateway_config cfg_;
  temp_dir dir_;
  std::string config_path_;
  std::string log_path_;
  unsigned short public_port_ = 0;
  unsigned short internal_port_ = 0;
  std::unique_ptr<child_process> proc_;
  bool started_ = false;
  bool stopped_ = false;
};

// A self-signed EC certificate for 127.0.0.1 (SAN IP:127.0.0.1) made with the openssl CLI.
struct cert_files {
  std::string cert;
  std::string key;
};
// Throws std::runtime_error if openssl fails.
cert_files make_self_signed_cert(const temp_dir& dir, const std::string& name = "server");

}  // namespace keygate::itest

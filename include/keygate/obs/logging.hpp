// keygate::obs logging — process logs (stderr) and the access log (stdout), both JSON lines by
// default. Messages must never contain a secret: log key ids and display prefixes only.
#pragma once

#include <string_view>

#include "keygate/config/config.hpp"

namespace keygate::obs {

// Configures spdlog's default logger (level, json|text) from `log`. Safe to call again on reload.
void setup_logging(const config::log& log);

struct access_record {
  std::string_view request_id, method, path, route, upstream, auth_method, key_id, tenant, cache_tier,
      client_ip;
  unsigned status = 0;
  double duration_ms = 0;
  bool would_deny = false;
};

// One JSON line per request on stdout (SPEC §8). Thread-safe.
void write_access_log(const access_record& r);

}  // namespace keygate::obs

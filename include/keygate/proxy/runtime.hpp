// keygate::proxy runtime — one immutable snapshot of everything the request path derives from
// the configuration: routes with their metric handles, upstream targets with their pools, and
// the parser limits. SIGHUP builds a new snapshot; each worker swaps its pointer on its own
// thread, and a request keeps the snapshot it started with.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/http/head_parser.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/proxy/upstream_pool.hpp"

namespace keygate::proxy {

struct route_runtime {
  std::array<obs::counter*, 5> by_status_class{};  // 1xx..5xx
};

struct runtime {
  std::shared_ptr<const config::config> cfg;
  std::vector<std::shared_ptr<upstream_target>> upstreams;  // index = cfg->upstreams index
  std::vector<route_runtime> routes;                        // index = cfg->routes index
  http::head_limits request_limits;
  obs::counter* no_route = nullptr;  // requests that matched no route, by status class 4xx

  // Upstream targets whose settings did not change are carried over from `previous`, keeping
  // their warm connection pools across a reload.
  static std::shared_ptr<const runtime> build(std::shared_ptr<const config::config> cfg, unsigned workers,
                                              obs::registry& metrics, const runtime* previous);
};

}  // namespace keygate::proxy

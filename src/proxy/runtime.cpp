#include "keygate/proxy/runtime.hpp"

namespace keygate::proxy {
namespace {
bool same_target(const config::upstream& a, const config::upstream& b) {
  return a.name == b.name && a.url == b.url && a.tls_verify == b.tls_verify && a.ca_file == b.ca_file &&
         a.max_idle == b.max_idle && a.connect_timeout == b.connect_timeout &&
         a.response_timeout == b.response_timeout;
}
}  // namespace

std::shared_ptr<const runtime> runtime::build(std::shared_ptr<const config::config> cfg, unsigned workers,
                                              obs::registry& metrics, const runtime* previous) {
  auto rt = std::make_shared<runtime>();
  rt->cfg = cfg;
  for (const auto& u : cfg->upstreams) {
    std::shared_ptr<upstream_target> reuse;
    if (previous)
      for (const auto& old : previous->upstreams)
        if (same_target(old->cfg, u)) reuse = old;
    rt->upstreams.push_back(reuse ? reuse : std::make_shared<upstream_target>(u, workers, metrics));
  }
  auto& requests = metrics.counters("keygate_requests_total", "Requests by route and status class",
                                    {"route", "status_class"});
  static constexpr const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const auto& r : cfg->routes) {
    route_runtime rr;
    for (std::size_t i = 0; i < 5; ++i) rr.by_status_class[i] = &requests.with({r.name, classes[i]});
    rt->routes.push_back(rr);
  }
  rt->no_route = &requests.with({"none", "4xx"});
  const auto& l = cfg->server.limits;
  rt->request_limits = {l.max_request_line_bytes, l.max_field_bytes, l.max_header_bytes, l.max_header_count};
  return rt;
}

}  // namespace keygate::proxy

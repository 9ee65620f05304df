// keygate::admin management API — the internal listener's authenticated endpoints (SPEC §5):
// POST /cache/invalidate, /v1/keys..., /v1/sessions..., /v1/audit.
//
// Callers authenticate with a service token (`Authorization: Bearer <token>` whose SHA-256 is in
// internal.service_tokens: cross-tenant) or an end-user credential validated as on the public
// path (tenant-scoped, role-limited). Every rule lives in manage::service; this layer only maps
// HTTP to service calls. Blocking service calls run on `pool`, never on the listener's thread.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>

#include "keygate/admin/internal_server.hpp"
#include "keygate/cache/blocking_invalidation_sink.hpp"
#include "keygate/cache/tiered_lookup.hpp"
#include "keygate/config/config.hpp"
#include "keygate/manage/service.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/key_store.hpp"
#include "keygate/store/management_store.hpp"

namespace keygate::admin {

struct api_context {
  std::function<std::shared_ptr<const config::config>()> config;  // the current snapshot
  cache::tiered_lookup* lookup = nullptr;
  store::key_store* store = nullptr;
  store::management_store* management = nullptr;
  manage::service* service = nullptr;
  cache::blocking_invalidation_sink* sink = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  obs::registry* metrics = nullptr;
};

// Registers the endpoints; without a store they answer 503.
void register_management_api(internal_server& server, api_context& ctx);

}  // namespace keygate::admin

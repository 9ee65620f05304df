// keygate::proxy auth phase — the pipeline slot between routing and forwarding.
//
// The session calls `decide_now()`, then (when that needs I/O) `run()`, for every request on a
// route with `auth: required|optional`. The phase reads the credential from the request head,
// decides, and either fills `identity` (forwarded upstream) and returns proceed, or returns
// respond with the error to send. It completes on the caller's executor and never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/http/head_parser.hpp"

namespace keygate::proxy {

struct request_context {
  const http::request_head& head;
  const config::route& route;
  const config::config& cfg;  // the snapshot the request runs under
  unsigned worker = 0;        // index of the worker (per-worker resources)
  std::string_view request_id;
  std::string_view client_ip;
  // Filled by the auth phase:
  // The identity header lines forwarded upstream ("<prefix>Tenant: t\r\n..."), rendered once.
  // The session's buffer, cleared for each request (its capacity is reused).
  std::string& identity;
  std::shared_ptr<const void> credential;  // keeps the views below alive (the cache entry)
  std::string_view auth_method;            // api_key | session | (empty: anonymous)
  std::string_view key_id;
  std::string_view tenant;
  std::string_view cache_tier;  // local | redis | postgres | coalesced | stale
  bool would_deny = false;      // shadow mode: denied but forwarded
};

struct phase_result {
  bool proceed = true;
  errc error = errc::ok;  // when !proceed
};

class auth_phase {
 public:
  virtual ~auth_phase() = default;
  // The verdict when it needs no I/O (no or malformed credential, an answer from the local
  // cache), without suspending the caller; nullopt when `run()` must be awaited.
  virtual std::optional<phase_result> decide_now(request_context& ctx) = 0;
  virtual boost::asio::awaitable<phase_result> run(request_context& ctx) = 0;
};

}  // namespace keygate::proxy

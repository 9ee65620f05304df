// keygate::proxy auth phase — the pipeline slot between routing and forwarding.
//
// The session calls `run()` for every request on a route with `auth: required|optional`.
// The phase reads the credential from the request head, decides, and either fills
// `identity_headers` (forwarded upstream) and returns proceed, or returns respond with the
// error to send. It completes on the caller's executor and never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <utility>
#include <vector>

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
  std::vector<std::pair<std::string, std::string>> identity_headers;
  std::string auth_method;  // api_key | session | (empty: anonymous)
  std::string key_id;
  std::string tenant;
  std::string cache_tier;  // local | redis | postgres | none
  bool would_deny = false;  // shadow mode: denied but forwarded
};

struct phase_result {
  bool proceed = true;
  errc error = errc::ok;  // when !proceed
};

class auth_phase {
 public:
  virtual ~auth_phase() = default;
  virtual boost::asio::awaitable<phase_result> run(request_context& ctx) = 0;
};

}  // namespace keygate::proxy

// Integration-test support: assertions and small helpers shared by the proxy_*_itest suites.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <string>
#include <thread>

#include "integration/support/gateway.hpp"
#include "integration/support/http_client.hpp"
#include "integration/support/recording_upstream.hpp"

namespace keygate::itest {

// The most common setup: upstream "app" at `up`, one catch-all `auth: none` route.
gateway_config single_route_config(const recording_upstream& up, const std::string& prefix = "/");

// `r` is a keygate error: status, Content-Type application/json, body
// {"error": one of codes, "message": string, "request_id": non-empty string}.
::testing::AssertionResult is_json_error(const response& r, int status,
                                         std::initializer_list<const char*> codes);

// `r` carries "Connection: close".
::testing::AssertionResult says_close(const response& r);

// Prometheus text: the sum of the samples of `name` (exact metric name, any labels) whose label
// set contains every `label="value"` pair in `labels`. 0 when there is none.
double metric_sum(const std::string& text, const std::string& name,
                  const std::map<std::string, std::string>& labels = {});
// Whether a sample line of `name` (with any labels) exists.
bool has_metric(const std::string& text, const std::string& name);

// GET path on the internal listener (new connection).
response internal_get(const gateway& gw, const std::string& path);

// Polls `pred` every 20 ms until true or timeout.
template <class Pred>
bool eventually(Pred pred, millis timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Regex-free format checks.
bool is_lower_hex(const std::string& s, std::size_t len);
bool is_valid_traceparent(const std::string& v);  // 00-<32hex>-<16hex>-<2hex>, ids not all zero

}  // namespace keygate::itest

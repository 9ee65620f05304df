// Internal listener (SPEC §5, §8; issue 2 item 8) and the access log.
#include <gtest/gtest.h>

#include <sstream>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

TEST(ProxyInternal, HealthReadyVersion) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());

  auto r = internal_get(gw, "/healthz");
  EXPECT_EQ(r.status(), 200) << r.describe();

  r = internal_get(gw, "/readyz");  // no store configured: ready
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_TRUE(r.json().is_object()) << r.describe();

  r = internal_get(gw, "/version");
  EXPECT_EQ(r.status(), 200) << r.describe();
  const auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.describe();
  ASSERT_TRUE(j.contains("version") && j["version"].is_string()) << r.describe();
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j.value("api_version", ""), "v1");

  r = internal_get(gw, "/not-an-endpoint");  // the internal listener never proxies
  EXPECT_EQ(r.status(), 404) << r.describe();
  EXPECT_EQ(up.request_count(), 0u);
}

TEST(ProxyInternal, MetricsCountRequestsLatencyConnectionsAndRejections) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_EQ(c.request("GET", "/warm").status(), 200);

  // Counters move right after the response is written: poll briefly instead of racing them.
  auto m = internal_get(gw, "/metrics");
  eventually(
      [&] {
        m = internal_get(gw, "/metrics");
        return metric_sum(m.body, "keygate_requests_total", {{"status_class", "2xx"}}) >= 1;
      },
      std::chrono::seconds(2));
  ASSERT_EQ(m.status(), 200) << m.describe();
  EXPECT_EQ(m.header("Content-Type").value_or("").rfind("text/plain", 0), 0u) << m.describe();
  const double ok_before = metric_sum(m.body, "keygate_requests_total", {{"status_class", "2xx"}});
  EXPECT_GE(ok_before, 1) << m.body;
  EXPECT_TRUE(has_metric(m.body, "keygate_upstream_latency_seconds_bucket")) << m.body;
  EXPECT_TRUE(has_metric(m.body, "keygate_active_connections")) << m.body;
  // the request counter carries a route label
  EXPECT_NE(m.body.find("keygate_requests_total{"), std::string::npos);
  EXPECT_GE(metric_sum(m.body, "keygate_active_connections"), 1)
      << "our open client connection is not counted";

  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.request("GET", "/count").status(), 200);
  const auto not_found = c.request("GET", "/status/404");  // an upstream 404 counts as 4xx
  ASSERT_EQ(not_found.status(), 404) << not_found.describe();
  eventually(
      [&] {
        m = internal_get(gw, "/metrics");
        return metric_sum(m.body, "keygate_requests_total", {{"status_class", "4xx"}}) >= 1 &&
               metric_sum(m.body, "keygate_requests_total", {{"status_class", "2xx"}}) >= ok_before + 3;
      },
      std::chrono::seconds(2));
  EXPECT_EQ(metric_sum(m.body, "keygate_requests_total", {{"status_class", "2xx"}}), ok_before + 3) << m.body;
  EXPECT_GE(metric_sum(m.body, "keygate_requests_total", {{"status_class", "4xx"}}), 1) << m.body;
  EXPECT_GE(metric_sum(m.body, "keygate_upstream_latency_seconds_count"), 4) << m.body;

  const double rejected_before = metric_sum(m.body, "keygate_framing_rejections_total");
  const auto x = exchange_raw(
      gw.port(),
      "POST / HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_FALSE(x.responses.empty());
  ASSERT_EQ(x.responses[0].status(), 400);
  m = internal_get(gw, "/metrics");
  EXPECT_EQ(metric_sum(m.body, "keygate_framing_rejections_total"), rejected_before + 1) << m.body;
  EXPECT_NE(m.body.find("keygate_framing_rejections_total{reason=\""), std::string::npos)
      << "no reason label:\n"
      << m.body;
}

TEST(ProxyInternal, InternalEndpointsAreNotServedOnThePublicPort) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (const char* path : {"/metrics", "/healthz", "/version", "/readyz"}) {
    const auto r = c.request("GET", path);
    ASSERT_EQ(r.status(), 200) << path << ": " << r.describe();
    EXPECT_EQ(r.header("X-Upstream-Port"), std::to_string(up.port()))
        << path << " answered by keygate itself";
    EXPECT_EQ(r.body.find("keygate_requests_total"), std::string::npos) << path;
  }
  EXPECT_EQ(up.request_count(), 4u);
}

// SPEC §8: one JSON line per request with the fields that exist so far; never a credential.
TEST(ProxyAccessLog, JsonLinePerRequestWithoutCredentials) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  const std::string secret = "kg_test_SuperSecretTokenValue0123456789abcd";
  http_client c(gw.port());
  const auto r = c.request("POST", "/logged/path?x=1",
                           {{"X-Request-Id", "req-accesslog-000001"},
                            {"Authorization", "Bearer " + secret},
                            {"Cookie", "keygate_session=" + secret + "-cookie"}},
                           "body");
  ASSERT_EQ(r.status(), 200) << r.describe();

  nlohmann::json line;
  const bool found = eventually(
      [&] {
        std::istringstream in(gw.log());
        std::string text;
        while (std::getline(in, text)) {
          if (text.find("req-accesslog-000001") == std::string::npos) continue;
          auto j = nlohmann::json::parse(text, nullptr, false);
          if (j.is_discarded() || !j.is_object()) continue;
          // tolerate one level of nesting (e.g. {"msg":..., "fields": {...}})
          for (auto& [k, v] : j.items())
            if (v.is_object())
              for (auto& [k2, v2] : v.items()) j[k2] = v2;
          if (j.value("request_id", "") == "req-accesslog-000001") {
            line = j;
            return true;
          }
        }
        return false;
      },
      3s);
  ASSERT_TRUE(found) << "no JSON access-log line with request_id req-accesslog-000001";
  EXPECT_EQ(line.value("method", ""), "POST") << line.dump();
  ASSERT_TRUE(line.contains("path")) << line.dump();
  EXPECT_EQ(line["path"].get<std::string>().rfind("/logged/path", 0), 0u) << line.dump();
  ASSERT_TRUE(line.contains("status")) << line.dump();
  EXPECT_TRUE(line["status"] == 200 || line["status"] == "200") << line.dump();
  bool has_duration = false;
  for (auto& [k, v] : line.items())
    has_duration = has_duration || (k.rfind("duration", 0) == 0 && v.is_number());
  EXPECT_TRUE(has_duration) << "no numeric duration*: " << line.dump();
  EXPECT_EQ(line.value("upstream", ""), "app") << line.dump();
  EXPECT_TRUE(line.contains("route")) << line.dump();
  bool has_ip = false;
  for (const char* k : {"client_ip", "client", "remote_addr", "ip"})
    has_ip = has_ip || line.value(k, "") == "127.0.0.1";
  EXPECT_TRUE(has_ip) << "no client IP: " << line.dump();

  const auto log = gw.log();
  EXPECT_EQ(log.find(secret), std::string::npos) << "a credential was logged";
  EXPECT_EQ(log.find("SuperSecretTokenValue"), std::string::npos) << "part of a credential was logged";
}

}  // namespace
}  // namespace keygate::itest

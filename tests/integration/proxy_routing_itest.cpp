// Routing (SPEC §2 routes, §4): prefix / exact / methods / host, first match wins, strip_prefix,
// no match → 404 no_route.
#include <gtest/gtest.h>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class ProxyRouting : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_config cfg;
    cfg.upstream("a", a.url()).upstream("b", b.url());
    cfg.route("{match: {exact: /exact}, upstream: a, auth: none}")
        .route("{match: {prefix: /api/, methods: [POST, PUT]}, upstream: b, auth: none}")
        .route("{match: {prefix: /api/}, upstream: a, auth: none}")
        .route("{match: {prefix: /hosted/, host: svc.example}, upstream: b, auth: none}")
        .route("{match: {prefix: /dup/}, upstream: a, auth: none}")
        .route("{match: {prefix: /dup/}, upstream: b, auth: none}")
        .route("{match: {prefix: /svc}, upstream: b, auth: none, strip_prefix: true}");
    gw = std::make_unique<gateway>(cfg);
    ASSERT_TRUE(gw->started());
  }

  // Which upstream ("a", "b") answered, or "404"/other status; the target it saw in *seen.
  std::string where(const std::string& method, const std::string& target, const std::string& host = "gw.test",
                    std::string* seen = nullptr) {
    const auto na = a.request_count(), nb = b.request_count();
    http_client c(gw->port());
    const auto r = c.request(method, target, {{"Host", host}, {"Content-Length", "0"}});
    last = r;
    if (!r.complete) return "incomplete: " + r.describe();
    if (r.status() != 200) return std::to_string(r.status());
    const bool in_a = a.request_count() == na + 1, in_b = b.request_count() == nb + 1;
    if (in_a == in_b) return "both-or-neither";
    if (seen) *seen = (in_a ? a : b).requests().back().target();
    return in_a ? "a" : "b";
  }

  recording_upstream a, b;
  std::unique_ptr<gateway> gw;
  response last;
};

TEST_F(ProxyRouting, ExactMatchesOnlyThatPath) {
  EXPECT_EQ(where("GET", "/exact"), "a");
  EXPECT_EQ(where("GET", "/exact?q=1"), "a");  // the query is not part of the path
  EXPECT_EQ(where("GET", "/exact/more"), "404");
  EXPECT_EQ(where("GET", "/exactly"), "404");
}

TEST_F(ProxyRouting, MethodsRestrictARouteAndFirstMatchWins) {
  EXPECT_EQ(where("POST", "/api/x"), "b");
  EXPECT_EQ(where("PUT", "/api/x"), "b");
  EXPECT_EQ(where("GET", "/api/x"), "a");
  EXPECT_EQ(where("DELETE", "/api/x"), "a");
  EXPECT_EQ(where("GET", "/dup/x"), "a");
  EXPECT_EQ(where("POST", "/dup/x"), "a");
}

TEST_F(ProxyRouting, HostMatchIsCaseInsensitiveAndIgnoresThePort) {
  EXPECT_EQ(where("GET", "/hosted/x", "svc.example"), "b");
  EXPECT_EQ(where("GET", "/hosted/x", "SVC.Example:8080"), "b");
  EXPECT_EQ(where("GET", "/hosted/x", "other.example"), "404");
}

TEST_F(ProxyRouting, StripPrefixRewritesTheUpstreamTarget) {
  std::string seen;
  EXPECT_EQ(where("GET", "/svc/foo/bar?q=1", "gw.test", &seen), "b");
  EXPECT_EQ(seen, "/foo/bar?q=1");
  EXPECT_EQ(where("GET", "/svc", "gw.test", &seen), "b");
  EXPECT_EQ(seen, "/");
  EXPECT_EQ(where("GET", "/api/keep", "gw.test", &seen), "a");
  EXPECT_EQ(seen, "/api/keep") << "a route without strip_prefix must forward the target unchanged";
}

TEST_F(ProxyRouting, NoMatchIs404NoRouteJsonAndNothingForwarded) {
  EXPECT_EQ(where("GET", "/nothing/here"), "404");
  EXPECT_TRUE(is_json_error(last, 404, {"no_route"}));
  EXPECT_EQ(a.request_count() + b.request_count(), 0u);
  EXPECT_EQ(a.bytes_received() + b.bytes_received(), 0u);
  // a 404 does not cost the keep-alive connection
  http_client c(gw->port());
  auto r = c.request("GET", "/nothing");
  EXPECT_TRUE(is_json_error(r, 404, {"no_route"}));
  r = c.request("GET", "/exact");
  EXPECT_EQ(r.status(), 200) << r.describe();
}

}  // namespace
}  // namespace keygate::itest

// Header rewriting on the way upstream and back (SPEC §4): hop-by-hop removal, X-Forwarded-*,
// X-Request-Id, traceparent, underscore names, spoofed identity headers.
#include <gtest/gtest.h>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

recorded_request proxied(gateway& gw, recording_upstream& up, const header_list& headers,
                         const std::string& target = "/h") {
  const auto before = up.request_count();
  http_client c(gw.port());
  const auto r = c.request("GET", target, headers);
  EXPECT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_TRUE(up.wait_for_requests(before + 1, 2s));
  const auto all = up.requests();
  return all.empty() ? recorded_request{} : all.back();
}

std::string dump(const recorded_request& r) {
  std::string out;
  for (const auto& h : r.head.headers) out += "  " + h.name + ": " + h.value + "\n";
  return out;
}

TEST(ProxyHeaders, HopByHopHeadersAreRemovedBothWays) {
  recording_upstream up([](upstream_exchange& x) {
    x.respond(200,
              {{"Connection", "X-Resp-Hop"},
               {"X-Resp-Hop", "1"},
               {"Keep-Alive", "timeout=99"},
               {"Proxy-Connection", "keep-alive"},
               {"Upgrade", "foo/1"},
               {"X-Resp-Kept", "yes"}},
              "ok");
  });
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto r = c.request("GET", "/hop",
                           {{"Connection", "keep-alive, X-Custom-Hop, HTTP2-Settings"},
                            {"Keep-Alive", "timeout=99"},
                            {"TE", "trailers"},
                            {"Trailer", "X-T"},
                            {"Upgrade", "h2c"},
                            {"HTTP2-Settings", "AAMAAABkAAQAAP__"},
                            {"Proxy-Connection", "keep-alive"},
                            {"Proxy-Authorization", "Basic dXNlcjpwYXNz"},
                            {"X-Custom-Hop", "secret-hop"},
                            {"X-End-To-End", "kept"},
                            {"X-Multi", "a"},
                            {"X-Multi", "b"}});
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  ASSERT_EQ(up.request_count(), 1u);
  const auto req = up.requests()[0];
  for (const char* hop : {"Keep-Alive", "TE", "Trailer", "Upgrade", "HTTP2-Settings", "Proxy-Connection",
                          "Proxy-Authorization", "X-Custom-Hop"})
    EXPECT_FALSE(req.has(hop)) << hop << " reached the upstream:\n" << dump(req);
  for (const auto& v : req.headers("Connection"))
    for (const auto& t : split_tokens(v))
      EXPECT_TRUE(t == "keep-alive" || t == "close") << "Connection: " << v << " reached the upstream";
  EXPECT_EQ(req.header("X-End-To-End"), "kept");
  EXPECT_EQ(req.headers("X-Multi"), (std::vector<std::string>{"a", "b"})) << "end-to-end order changed";

  EXPECT_FALSE(r.head.has("X-Resp-Hop")) << r.describe();
  EXPECT_FALSE(r.head.has("Proxy-Connection")) << r.describe();
  EXPECT_FALSE(r.head.has("Upgrade")) << r.describe();
  EXPECT_NE(r.header("Keep-Alive").value_or(""), "timeout=99") << "the upstream's Keep-Alive was relayed";
  for (const auto& v : r.head.get_all("Connection"))
    for (const auto& t : split_tokens(v)) EXPECT_NE(t, "x-resp-hop");
  EXPECT_EQ(r.header("X-Resp-Kept"), "yes");
  EXPECT_EQ(r.body, "ok");
}

TEST(ProxyHeaders, ForwardedHeadersIgnoreClientValuesFromUntrustedPeers) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  const auto req = proxied(gw, up,
                           {{"Host", "app.example:8080"},
                            {"X-Forwarded-For", "1.2.3.4"},
                            {"X-Forwarded-Proto", "https"},
                            {"X-Forwarded-Host", "evil.example"}});
  EXPECT_EQ(req.headers("X-Forwarded-For"), (std::vector<std::string>{"127.0.0.1"})) << dump(req);
  EXPECT_EQ(req.headers("X-Forwarded-Proto"), (std::vector<std::string>{"http"})) << dump(req);
  EXPECT_EQ(req.headers("X-Forwarded-Host"), (std::vector<std::string>{"app.example:8080"})) << dump(req);
}

TEST(ProxyHeaders, ForwardedForAppendsToTrustedProxyChain) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.server("trusted_proxies: [127.0.0.1/32]");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  auto req = proxied(gw, up, {{"X-Forwarded-For", "1.2.3.4"}});
  EXPECT_EQ(req.headers("X-Forwarded-For"), (std::vector<std::string>{"1.2.3.4, 127.0.0.1"})) << dump(req);
  req = proxied(gw, up, {{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-For", "2.2.2.2"}});
  EXPECT_EQ(req.headers("X-Forwarded-For"), (std::vector<std::string>{"1.1.1.1, 2.2.2.2, 127.0.0.1"}))
      << dump(req);
  req = proxied(gw, up, {});
  EXPECT_EQ(req.headers("X-Forwarded-For"), (std::vector<std::string>{"127.0.0.1"})) << dump(req);
}

bool plausible_request_id(const std::string& id) {
  if (id.size() < 8 || id.size() > 128) return false;
  for (const char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

TEST(ProxyHeaders, RequestIdKeptWhenValidGeneratedOtherwise) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());

  auto req = proxied(gw, up, {{"X-Request-Id", "req-0123456789abcdef"}});
  EXPECT_EQ(req.headers("X-Request-Id"), (std::vector<std::string>{"req-0123456789abcdef"})) << dump(req);

  const auto a = proxied(gw, up, {}).headers("X-Request-Id");
  const auto b = proxied(gw, up, {}).headers("X-Request-Id");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(plausible_request_id(a[0])) << a[0];
  EXPECT_NE(a[0], b[0]) << "generated ids repeat";

  for (const std::string& bad : {std::string(500, 'a'), std::string("bad id with spaces"), std::string("")}) {
    req = proxied(gw, up, {{"X-Request-Id", bad}});
    const auto ids = req.headers("X-Request-Id");
    ASSERT_EQ(ids.size(), 1u) << dump(req);
    EXPECT_NE(ids[0], bad);
    EXPECT_TRUE(plausible_request_id(ids[0])) << ids[0];
  }

  req = proxied(gw, up, {{"X-Request-Id", "req-first-000001"}, {"X-Request-Id", "req-second-00002"}});
  EXPECT_EQ(req.headers("X-Request-Id").size(), 1u) << dump(req);
}

TEST(ProxyHeaders, TraceparentPassedThroughOrStarted) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());

  const std::string valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto req = proxied(gw, up, {{"traceparent", valid}});
  auto tp = req.headers("traceparent");
  ASSERT_EQ(tp.size(), 1u) << dump(req);
  EXPECT_TRUE(is_valid_traceparent(tp[0])) << tp[0];
  EXPECT_EQ(tp[0].substr(3, 32), valid.substr(3, 32)) << "trace id not preserved";

  req = proxied(gw, up, {});
  tp = req.headers("traceparent");
  ASSERT_EQ(tp.size(), 1u) << dump(req);
  EXPECT_TRUE(is_valid_traceparent(tp[0])) << tp[0];

  for (const std::string& bad :
       {std::string("garbage"), std::string("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        std::string("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")}) {
    req = proxied(gw, up, {{"traceparent", bad}});
    tp = req.headers("traceparent");
    ASSERT_EQ(tp.size(), 1u) << dump(req);
    EXPECT_NE(tp[0], bad);
    EXPECT_TRUE(is_valid_traceparent(tp[0])) << tp[0];
  }
}

TEST(ProxyHeaders, UnderscoreHeaderNamesDroppedByDefault) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  const auto req = proxied(gw, up, {{"X_Keygate_User", "evil"}, {"My_Header", "v"}, {"Normal-Header", "ok"}});
  for (const auto& h : req.head.headers)
    EXPECT_EQ(h.name.find('_'), std::string::npos) << h.name << " reached the upstream";
  EXPECT_EQ(req.header("Normal-Header"), "ok");
}

TEST(ProxyHeaders, UnderscoreHeaderNamesRejectedWhenConfigured) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.server("underscore_headers: reject");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto r = c.request("GET", "/u", {{"My_Header", "v"}});
  EXPECT_TRUE(is_json_error(r, 400, {"bad_request"}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.request_count(), 0u);
}

TEST(ProxyHeaders, UnderscoreHeaderNamesAllowedWhenConfigured) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.server("underscore_headers: allow");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  const auto req = proxied(gw, up, {{"My_Header", "v"}});
  EXPECT_EQ(req.header("My_Header"), "v") << dump(req);
}

TEST(ProxyHeaders, SpoofedIdentityHeadersNeverReachTheUpstream) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  const auto req = proxied(gw, up,
                           {{"X-Keygate-User", "evil"},
                            {"x-keygate-tenant", "evil"},
                            {"Connection", "X-Keygate-Scopes"},
                            {"X-Keygate-Scopes", "admin"}});
  for (const auto& h : req.head.headers)
    EXPECT_NE(lower(h.name).rfind("x-keygate-", 0), 0u)
        << h.name << ": " << h.value << " reached the upstream";
}

}  // namespace
}  // namespace keygate::itest

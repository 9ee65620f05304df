#include "keygate/proxy/router.hpp"

#include <gtest/gtest.h>

#include "keygate/config/loader.hpp"

namespace keygate::proxy {
namespace {

config::config routes_config() {
  return config::load_string(R"(
upstreams: {a: {url: "http://127.0.0.1:1"}, b: {url: "http://127.0.0.1:2"}}
routes:
  - {match: {exact: /health}, upstream: a, auth: none}
  - {match: {prefix: /api/, methods: [GET]}, upstream: a, strip_prefix: true}
  - {match: {prefix: /api/, host: admin.example}, upstream: b}
  - {match: {prefix: /}, upstream: b}
)",
                             [](const char*) -> const char* { return nullptr; });
}

TEST(Router, FirstMatchWins) {
  const auto cfg = routes_config();
  const auto* r = match_route(cfg.routes, "GET", "/health", "x");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->upstream, "a");
  EXPECT_EQ(match_route(cfg.routes, "GET", "/health/x", "x"), &cfg.routes[3]);
  EXPECT_EQ(match_route(cfg.routes, "GET", "/api/v1", "x"), &cfg.routes[1]);
  EXPECT_EQ(match_route(cfg.routes, "POST", "/api/v1", "Admin.Example:8080"), &cfg.routes[2]);
  EXPECT_EQ(match_route(cfg.routes, "POST", "/api/v1", "other"), &cfg.routes[3]);
  EXPECT_EQ(match_route(std::vector<config::route>{}, "GET", "/", "x"), nullptr);
}

TEST(Router, StripPrefix) {
  const auto cfg = routes_config();
  EXPECT_EQ(forwarded_target(cfg.routes[1], "/api/v1?x=1"), "/v1?x=1");
  EXPECT_EQ(forwarded_target(cfg.routes[1], "/api/"), "/");
  EXPECT_EQ(forwarded_target(cfg.routes[3], "/api/v1"), "/api/v1");
}

TEST(Router, UnsafePaths) {
  for (const char* p :
       {"/public/../admin", "/public/..", "/a/./b", "/%2e%2e/admin", "/a/%2E./b", "/a%2fb", "/a\\b", "/a%00"})
    EXPECT_FALSE(is_safe_path(p)) << p;
  for (const char* p : {"/", "/a/b", "/a..b", "/...", "/a/.well-known/x", "/a%20b"})
    EXPECT_TRUE(is_safe_path(p)) << p;
}

}  // namespace
}  // namespace keygate::proxy

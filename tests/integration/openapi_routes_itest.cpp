// docs/openapi.yaml is the internal API's contract: every path and method it lists must be
// served by keygate's internal listener (answered by a handler, not by the "no such endpoint"
// fallback), and the internal endpoints must not exist on the public listener.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "integration/support/gateway.hpp"
#include "integration/support/http_client.hpp"

namespace keygate::itest {
namespace {

std::string concrete(std::string path) {
  for (auto at = path.find('{'); at != std::string::npos; at = path.find('{'))
    path.replace(at, path.find('}', at) - at + 1, "key_000000000000000000000000");
  return path;
}

TEST(OpenApi, EveryListedRouteExists) {
  gateway gw(gateway_config{}.upstream("app", "http://127.0.0.1:9").prefix_route("/", "app"));
  ASSERT_TRUE(gw.started()) << gw.log();
  const auto doc = YAML::LoadFile(std::string(KEYGATE_SOURCE_DIR) + "/docs/openapi.yaml");
  int checked = 0;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.Scalar();
      if (method == "parameters") continue;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      http_client client(gw.internal_port());
      const auto target = concrete(path.first.Scalar());
      const auto res =
          client.request(method, target, {{"Host", "internal"}, {"Content-Type", "application/json"}},
                         method == "POST" ? "{}" : "");
      ASSERT_TRUE(res.complete) << method << " " << target << ": " << res.error;
      const auto body = res.json();
      const bool fallback =
          res.status() == 404 && body.is_object() && body.value("message", "") == "no such endpoint";
      EXPECT_FALSE(fallback) << method << " " << target << " is listed in docs/openapi.yaml but not served";
      EXPECT_EQ(res.header("X-Content-Type-Options").value_or(""), "nosniff") << target;
      ++checked;
    }
  }
  EXPECT_GE(checked, 16);
}

TEST(OpenApi, InternalEndpointsAreNotOnThePublicListener) {
  gateway gw(gateway_config{}.upstream("app", "http://127.0.0.1:9").prefix_route("/public/", "app"));
  ASSERT_TRUE(gw.started()) << gw.log();
  for (const char* target : {"/cache/invalidate", "/v1/keys", "/metrics", "/healthz"}) {
    http_client client(gw.port());
    const auto res = client.request("POST", target, {{"Host", "x"}, {"Content-Length", "2"}}, "{}");
    EXPECT_EQ(res.status(), 404) << target;
    EXPECT_EQ(res.json().value("error", ""), "no_route") << target;
  }
}

}  // namespace
}  // namespace keygate::itest

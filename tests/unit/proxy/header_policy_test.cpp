#include "keygate/proxy/header_policy.hpp"

#include <gtest/gtest.h>

namespace keygate::proxy {
namespace {

std::string rewrite(const std::string& raw, forward_context ctx) {
  static std::string keep;
  keep = raw;
  http::request_head req;
  EXPECT_FALSE(http::parse_request_head(keep, {}, req));
  std::string out;
  append_upstream_request(out, req, ctx);
  return out;
}

forward_context base_ctx() {
  forward_context c;
  c.target = "/x";
  c.client_ip = "10.0.0.9";
  c.request_id = "rid";
  c.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  return c;
}

TEST(HeaderPolicy, StripsSpoofedIdentityAndHopByHop) {
  const auto out = rewrite(
      "GET /x HTTP/1.1\r\nHost: h\r\nX-Keygate-User: evil\r\nx-keygate-tenant: evil\r\nX_Keygate_User: "
      "evil\r\n"
      "Connection: X-Custom, keep-alive\r\nX-Custom: hop\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
      "Proxy-Authorization: Basic x\r\nAccept: */*\r\n\r\n",
      base_ctx());
  EXPECT_EQ(out.find("evil"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-Custom"), std::string::npos) << out;
  EXPECT_EQ(out.find("Keep-Alive"), std::string::npos) << out;
  EXPECT_EQ(out.find("TE:"), std::string::npos) << out;
  EXPECT_EQ(out.find("Proxy-Authorization"), std::string::npos) << out;
  EXPECT_NE(out.find("Accept: */*\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("GET /x HTTP/1.1\r\nHost: h\r\n", 0), 0u) << out;
}

TEST(HeaderPolicy, IdentityAddedOnceAfterStripping) {
  auto ctx = base_ctx();
  ctx.identity_lines = "X-Keygate-User: u1\r\n";
  const auto out = rewrite("GET /x HTTP/1.1\r\nHost: h\r\nX-KEYGATE-USER: spoof\r\n\r\n", ctx);
  EXPECT_NE(out.find("X-Keygate-User: u1\r\n"), std::string::npos);
  EXPECT_EQ(out.find("spoof"), std::string::npos);
}

TEST(HeaderPolicy, ForwardedHeadersTrustOnlyTrustedPeers) {
  const std::string raw =
      "GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n"
      "X-Request-Id: client\r\n\r\n";
  auto out = rewrite(raw, base_ctx());
  EXPECT_NE(out.find("X-Forwarded-For: 10.0.0.9\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Forwarded-Host: h\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Request-Id: rid\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("client"), std::string::npos) << out;
  auto trusted = base_ctx();
  trusted.client_is_trusted = true;
  out = rewrite(raw, trusted);
  EXPECT_NE(out.find("X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << out;
}

TEST(HeaderPolicy, UnderscoreNamesDroppedByDefault) {
  auto out = rewrite("GET /x HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\n\r\n", base_ctx());
  EXPECT_EQ(out.find("X_Custom"), std::string::npos);
  auto allow = base_ctx();
  allow.underscores = config::underscore_policy::allow;
  out = rewrite("GET /x HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\nX_Keygate_User: x\r\n\r\n", allow);
  EXPECT_NE(out.find("X_Custom: 1"), std::string::npos);
  EXPECT_EQ(out.find("X_Keygate_User"), std::string::npos);  // identity prefix compares '_' as '-'
}

TEST(HeaderPolicy, HidesCredentials) {
  auto ctx = base_ctx();
  ctx.hide_authorization = true;
  ctx.api_key_header = "X-API-Key";
  ctx.session_cookie = "kg_session";
  const auto out = rewrite(
      "GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer secret1\r\nX-Api-Key: secret2\r\n"
      "Cookie: a=1; kg_session=secret3; b=2\r\n\r\n",
      ctx);
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  EXPECT_NE(out.find("Cookie: a=1; b=2\r\n"), std::string::npos) << out;
}

TEST(HeaderPolicy, FramingIsReissued) {
  auto out = rewrite("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", base_ctx());
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos);
  out = rewrite("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", base_ctx());
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace keygate::proxy

// TLS (issue 2 item 7): termination on the public listener, https:// upstreams with
// certificate verification. Certificates are made at test time with the openssl CLI.
#include <gtest/gtest.h>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

TEST(ProxyTls, TerminatesTlsOnThePublicListener) {
  temp_dir certs;
  const auto cert = make_self_signed_cert(certs);
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.server("tls: {cert_file: \"" + cert.cert + "\", key_file: \"" + cert.key + "\"}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());

  auto c = http_client::tls(gw.port(), {cert.cert, ""});  // verifies keygate's certificate
  auto r = c.request("POST", "/secure", {}, "over tls");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  r = c.request("GET", "/bytes/70000");  // keep-alive over TLS, multi-record body
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_TRUE(r.body == pattern(0, 70000));
  ASSERT_EQ(up.request_count(), 2u);
  const auto req = up.requests()[0];
  EXPECT_EQ(req.body, "over tls");
  EXPECT_EQ(req.headers("X-Forwarded-Proto"), (std::vector<std::string>{"https"}));

  // Plain HTTP on the TLS port is not proxied.
  const auto x = exchange_raw(gw.port(), build_request("GET", "/plaintext"), 3s);
  EXPECT_TRUE(x.responses.empty() || x.responses[0].status() != 200);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.request_count(), 2u);
}

class ProxyTlsUpstream : public ::testing::Test {
 protected:
  void SetUp() override {
    cert = make_self_signed_cert(certs);
    upstream_options o;
    o.tls_cert_file = cert.cert;
    o.tls_key_file = cert.key;
    up = std::make_unique<recording_upstream>(handlers::standard(), o);
  }
  response get_through(std::map<std::string, std::string> settings) {
    gateway_config cfg;
    cfg.upstream("app", up->url(), std::move(settings)).prefix_route("/", "app");
    gw = std::make_unique<gateway>(cfg);
    if (!gw->started()) return {};
    http_client c(gw->port());
    return c.request("GET", "/tls-upstream");
  }
  temp_dir certs;
  cert_files cert;
  std::unique_ptr<recording_upstream> up;
  std::unique_ptr<gateway> gw;
};

TEST_F(ProxyTlsUpstream, VerifiedWithCaFileIs200) {
  const auto r = get_through({{"tls_verify", "true"}, {"ca_file", "\"" + cert.cert + "\""}});
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  ASSERT_EQ(up->request_count(), 1u);
  EXPECT_EQ(up->requests()[0].target(), "/tls-upstream");
}

TEST_F(ProxyTlsUpstream, UntrustedCertificateIs502AndNothingSent) {
  const auto r = get_through({{"tls_verify", "true"}});
  EXPECT_TRUE(is_json_error(r, 502, {"upstream_unavailable", "upstream_bad_response"}));
  EXPECT_EQ(up->request_count(), 0u);
  EXPECT_EQ(up->bytes_received(), 0u) << "request bytes sent over an unverified TLS connection";
}

TEST_F(ProxyTlsUpstream, VerificationOffIs200) {  // proves the 502 above is the verification
  const auto r = get_through({{"tls_verify", "false"}});
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
}

}  // namespace
}  // namespace keygate::itest

// Self-tests of the integration-test support (recording upstream, raw clients, WebSocket codec,
// TLS helpers) talking to each other directly, without keygate. If these fail, the proxy suites'
// verdicts mean nothing.
#include <gtest/gtest.h>

#include "integration/support/gateway.hpp"
#include "integration/support/http_client.hpp"
#include "integration/support/proxy_helpers.hpp"
#include "integration/support/recording_upstream.hpp"
#include "integration/support/websocket.hpp"

namespace keygate::itest {
namespace {

TEST(ItestSupport, UpstreamRecordsHeadersInOrderWithCaseAndBodies) {
  recording_upstream up;
  http_client c(up.port());
  auto r = c.request("POST", "/echo?x=1", {{"X-First", "1"}, {"x-second", "two"}, {"X-First", "3"}}, "hello");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  ASSERT_EQ(up.request_count(), 1u);
  const auto req = up.requests()[0];
  EXPECT_EQ(req.method(), "POST");
  EXPECT_EQ(req.target(), "/echo?x=1");
  EXPECT_EQ(req.body, "hello");
  ASSERT_EQ(req.head.headers.size(), 5u);  // Host, 3 given, Content-Length
  EXPECT_EQ(req.head.headers[1].name, "X-First");
  EXPECT_EQ(req.head.headers[2].name, "x-second");
  EXPECT_EQ(req.headers("x-first"), (std::vector<std::string>{"1", "3"}));
  EXPECT_GT(up.bytes_received(), 50u);
  // keep-alive: a second request on the same connection
  auto chunked = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("abc") +
                 chunk("defg") + "0\r\n\r\n";
  ASSERT_TRUE(c.send(chunked));
  r = c.read_response("POST");
  ASSERT_TRUE(r.complete) << r.describe();
  ASSERT_TRUE(up.wait_for_requests(2, 1s));
  const auto second = up.requests()[1];
  EXPECT_EQ(second.body, "abcdefg");
  EXPECT_TRUE(second.body_was_chunked);
  EXPECT_EQ(second.connection, 0u);
  EXPECT_EQ(second.sequence, 1u);
  EXPECT_EQ(up.connections(), 1u);
}

TEST(ItestSupport, FixedAndChunkedBodiesAndHashes) {
  recording_upstream up;
  http_client c(up.port());
  auto r = c.request("GET", "/bytes/300000");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.body, pattern(0, 300000));
  r = c.request("GET", "/chunked/100001");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_TRUE(r.head.chunked());
  EXPECT_EQ(r.body, pattern(0, 100001));
  fnv1a h;
  h.add(pattern(0, 300000));
  EXPECT_EQ(h.h, pattern_hash(300000));
  r = c.request("HEAD", "/bytes/10");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.header("Content-Length"), "10");
  EXPECT_TRUE(r.body.empty());
}

TEST(ItestSupport, SseGateAndWebSocketCodec) {
  auto gate = std::make_shared<step_gate>();
  recording_upstream up(handlers::sse({"data: 1\n\n", "data: 2\n\n"}, gate));
  http_client c(up.port());
  ASSERT_TRUE(c.send(build_request("GET", "/events")));
  std::string got;
  auto r = c.read_response("GET", 5s, [&](std::string_view d) {
    got += d;
    if (got.find("data: 1\n\n") != std::string::npos) gate->release();
  });
  EXPECT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(got, "data: 1\n\ndata: 2\n\n");
  EXPECT_EQ(gate->timeouts(), 0u);

  EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
  std::string buf = ws::encode(ws::text, std::string(70000, 'w'), true) + ws::encode(ws::text, "hi", true);
  auto f = ws::decode(buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, std::string(70000, 'w'));
  EXPECT_TRUE(f->masked);
  f = ws::decode(buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "hi");
  EXPECT_TRUE(buf.empty());
}

TEST(ItestSupport, RawExchangeSeesCloseAndTruncation) {
  recording_upstream up(handlers::reset_mid_body(1000, 10, 50ms));
  auto x = exchange_raw(up.port(), build_request("GET", "/"), 3s);
  ASSERT_EQ(x.responses.size(), 1u);
  EXPECT_FALSE(x.responses[0].complete);
  EXPECT_EQ(x.responses[0].body.size(), 10u);
  EXPECT_TRUE(x.closed);

  recording_upstream up2(handlers::echo(false));
  x = exchange_raw(up2.port(), build_request("GET", "/a"), 3s);
  ASSERT_EQ(x.responses.size(), 1u);
  EXPECT_TRUE(x.responses[0].complete);
  EXPECT_TRUE(says_close(x.responses[0]));
  EXPECT_TRUE(x.closed);

  recording_upstream up3(handlers::blackhole());
  x = exchange_raw(up3.port(), build_request("GET", "/a"), 300ms);
  EXPECT_TRUE(x.responses.empty());
  EXPECT_FALSE(x.closed);
}

TEST(ItestSupport, TlsUpstreamAndClient) {
  temp_dir dir;
  const auto cert = make_self_signed_cert(dir);
  upstream_options o;
  o.tls_cert_file = cert.cert;
  o.tls_key_file = cert.key;
  recording_upstream up(handlers::standard(), o);
  EXPECT_EQ(up.url().rfind("https://", 0), 0u);
  auto c = http_client::tls(up.port(), {cert.cert, ""});
  auto r = c.request("GET", "/bytes/5000");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.body, pattern(0, 5000));
  EXPECT_THROW(http_client::tls(up.port(), {"/etc/ssl/certs/ca-certificates.crt", ""}), std::runtime_error);
}

TEST(ItestSupport, MetricParsing) {
  const std::string text =
      "# HELP keygate_requests_total x\n# TYPE keygate_requests_total counter\n"
      "keygate_requests_total{route=\"0:/\",status_class=\"2xx\"} 3\n"
      "keygate_requests_total{route=\"1:/a\",status_class=\"2xx\"} 2\n"
      "keygate_requests_total{route=\"0:/\",status_class=\"4xx\"} 1\n"
      "keygate_requests_total_other 9\nkeygate_active_connections 4\n";
  EXPECT_EQ(metric_sum(text, "keygate_requests_total", {{"status_class", "2xx"}}), 5);
  EXPECT_EQ(metric_sum(text, "keygate_requests_total"), 6);
  EXPECT_EQ(metric_sum(text, "keygate_active_connections"), 4);
  EXPECT_TRUE(has_metric(text, "keygate_active_connections"));
  EXPECT_FALSE(has_metric(text, "keygate_upstream_latency_seconds_bucket"));
  EXPECT_TRUE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
}

// The fixture's generated YAML (with every optional part the suites use) is accepted by the
// config loader of the binary under test.
TEST(ItestSupport, RenderedConfigPassesCheckConfig) {
  temp_dir dir;
  const auto cert = make_self_signed_cert(dir);
  gateway_config cfg;
  cfg.upstream("app", "http://127.0.0.1:1")
      .upstream("tls", "https://127.0.0.1:2",
                {{"tls_verify", "true"}, {"ca_file", "\"" + cert.cert + "\""}, {"max_idle", "4"}})
      .route("{match: {exact: /x, methods: [GET, POST], host: svc.example}, upstream: app, auth: none}")
      .route("{match: {prefix: /svc}, upstream: tls, auth: none, strip_prefix: true}")
      .prefix_route("/", "app")
      .limit("max_body_bytes", "1048576")
      .limit("header_timeout", "1s")
      .server("trusted_proxies: [127.0.0.1/32]")
      .server("underscore_headers: reject")
      .server("tls: {cert_file: \"" + cert.cert + "\", key_file: \"" + cert.key + "\"}");
  cfg.workers = 2;
  const auto path = dir.write("k.yaml", cfg.render(free_port(), free_port()));
  const auto r = run_keygate({"check-config", "--config", path});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out << "\n" << read_file(path);
}

}  // namespace
}  // namespace keygate::itest

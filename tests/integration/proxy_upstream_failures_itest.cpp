// Upstream failures (SPEC §4 error table, issue 2 item 6): refused → 502, blackholed → 504 at
// response_timeout, a response cut mid-body aborts the client connection (and that upstream
// connection is not reused), malformed upstream responses → 502, never relayed raw.
#include <gtest/gtest.h>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

using namespace std::string_literals;

TEST(ProxyUpstreamFailures, RefusedIs502UpstreamUnavailable) {
  const auto dead_port = free_port();  // nothing listens there
  gateway_config cfg;
  cfg.upstream("app", "http://127.0.0.1:" + std::to_string(dead_port)).prefix_route("/", "app");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto r = c.request("GET", "/x");
  EXPECT_TRUE(is_json_error(r, 502, {"upstream_unavailable"}));
}

TEST(ProxyUpstreamFailures, BlackholedIs504AtTheResponseTimeout) {
  recording_upstream up(handlers::blackhole());
  gateway_config cfg;
  cfg.upstream("app", up.url(), {{"response_timeout", "1s"}}).prefix_route("/", "app");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto start = steady::now();
  const auto r = c.request("GET", "/hang", {}, {}, 10s);
  const double took = seconds_since(start);
  EXPECT_TRUE(is_json_error(r, 504, {"upstream_timeout"}));
  EXPECT_GE(took, 0.8);
  EXPECT_LE(took, 5.0);
  EXPECT_EQ(up.request_count(), 1u);  // it did get the request; it just never answered
}

void expect_aborted_then_recovers(const upstream_handler& cut) {
  recording_upstream up([cut](upstream_exchange& x) {
    if (x.request.target() == "/cut") return cut(x);
    handlers::echo()(x);
  });
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  {
    http_client c(gw.port());
    const auto start = steady::now();
    const auto r = c.request("GET", "/cut", {}, {}, 10s);
    // Noticed when it happens, not at a timeout (response_timeout is 30 s, body_idle 30 s).
    EXPECT_LE(seconds_since(start), 5.0);
    // The head was relayed before the upstream failed (it paused 300 ms after 1000 bytes), so
    // the only honest signal left is an aborted client connection: fewer bytes than declared.
    EXPECT_EQ(r.status(), 200) << r.describe();
    EXPECT_FALSE(r.complete) << "a truncated upstream response was completed: " << r.describe();
    EXPECT_LT(r.body.size(), 100000u);
    EXPECT_TRUE(r.end == io_status::closed || r.end == io_status::reset) << to_string(r.end);
  }
  http_client c2(gw.port());
  const auto r2 = c2.request("GET", "/next");
  ASSERT_TRUE(r2.complete) << r2.describe();
  EXPECT_EQ(r2.status(), 200);
  const auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[1].connection, reqs[0].connection) << "the broken upstream connection was reused";
}

TEST(ProxyUpstreamFailures, ResetMidBodyAbortsTheClientConnection) {
  expect_aborted_then_recovers(handlers::reset_mid_body(100000, 1000));
}

TEST(ProxyUpstreamFailures, CloseMidBodyAbortsTheClientConnection) {
  expect_aborted_then_recovers(handlers::close_mid_body(100000, 1000));
}

// The same failures right behind the bytes before them, so that one read takes part of the body
// together with the reset or FIN: keygate must not then wait for more (a read that drained the
// socket makes the next one wait for readiness; a reset read with data raises no new event).
TEST(ProxyUpstreamFailures, ResetRightBehindPartOfTheBodyAbortsTheClientConnection) {
  expect_aborted_then_recovers(handlers::reset_mid_body(100000, 1000, 0ms));
}

TEST(ProxyUpstreamFailures, CloseRightBehindPartOfTheBodyAbortsTheClientConnection) {
  expect_aborted_then_recovers([](upstream_exchange& x) {
    x.connection.send_with_fin("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'p'));
    x.close_after();
  });
}

// A body delimited by the connection's end (HTTP/1.0 style, no Content-Length) whose FIN
// arrives with it: relayed whole, and the exchange ends at once.
TEST(ProxyUpstreamFailures, CloseDelimitedBodyEndingWithItsFinIsRelayedWhole) {
  recording_upstream up([](upstream_exchange& x) {
    x.connection.send_with_fin("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n" +
                               std::string(3000, 'b'));
    x.close_after();
  });
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  for (int i = 0; i < 5; ++i) {
    http_client c(gw.port());
    const auto start = steady::now();
    const auto r = c.request("GET", "/eof-delimited", {}, {}, 10s);
    EXPECT_LE(seconds_since(start), 5.0);
    ASSERT_EQ(r.status(), 200) << r.describe();
    EXPECT_EQ(r.body, std::string(3000, 'b')) << r.describe();
  }
}

struct bad_response {
  std::string name;
  std::string raw;
};
std::ostream& operator<<(std::ostream& os, const bad_response& b) {
  return os << b.name;
}

class MalformedUpstream : public ::testing::TestWithParam<bad_response> {};

TEST_P(MalformedUpstream, Is502AndNeverRelayedRaw) {
  recording_upstream up(handlers::raw(GetParam().raw));
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto r = c.request("GET", "/bad");
  EXPECT_TRUE(is_json_error(r, 502, {"upstream_unavailable", "upstream_bad_response"}));
  EXPECT_EQ(r.body.find("smuggle"), std::string::npos) << "upstream bytes relayed: " << r.describe();
  EXPECT_FALSE(r.head.has("X-Upstream-Evil")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(
    ProxyMalformedUpstream, MalformedUpstream,
    ::testing::Values(
        bad_response{"cl_and_te",
                     "HTTP/1.1 200 OK\r\nX-Upstream-Evil: 1\r\nContent-Length: 5\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n0\r\n\r\nsmuggle"},
        bad_response{"garbage_status_line",
                     "HTTP/1.1 2x0 OK\r\nX-Upstream-Evil: 1\r\nContent-Length: 7\r\n\r\nsmuggle"},
        bad_response{"not_http", "SMUGGLE\r\n\r\n"},
        bad_response{"bare_lf", "HTTP/1.1 200 OK\nX-Upstream-Evil: 1\nContent-Length: 7\n\nsmuggle"},
        bad_response{"duplicate_cl_differing",
                     "HTTP/1.1 200 OK\r\nX-Upstream-Evil: 1\r\nContent-Length: 7\r\nContent-Length: "
                     "8\r\n\r\nsmuggle!"},
        bad_response{"invalid_cl",
                     "HTTP/1.1 200 OK\r\nX-Upstream-Evil: 1\r\nContent-Length: -7\r\n\r\nsmuggle"},
        bad_response{"obs_fold",
                     "HTTP/1.1 200 OK\r\nX-Upstream-Evil: 1\r\n folded\r\nContent-Length: 7\r\n\r\nsmuggle"},
        bad_response{"nul_in_header",
                     "HTTP/1.1 200 OK\r\nX-Upstream-Evil: a\0b\r\nContent-Length: 7\r\n\r\nsmuggle"s},
        bad_response{"http_2_0_version",
                     "HTTP/2.0 200 OK\r\nX-Upstream-Evil: 1\r\nContent-Length: 7\r\n\r\nsmuggle"}),
    [](const ::testing::TestParamInfo<bad_response>& i) { return i.param.name; });

}  // namespace
}  // namespace keygate::itest

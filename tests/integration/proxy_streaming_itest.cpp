// Streaming semantics: Server-Sent Events delivered event by event, WebSocket tunnelled after
// the upstream's 101, upstream keep-alive pooling.
#include <gtest/gtest.h>

#include <thread>

#include "integration/support/proxy_helpers.hpp"
#include "integration/support/websocket.hpp"

namespace keygate::itest {
namespace {

// The upstream sends event i+1 only after the client has received event i (a step_gate), so a
// proxy that buffers the response would make the upstream time out waiting and the test fail —
// no wall-clock threshold involved.
TEST(ProxyStreaming, SseEventsArriveOneByOneBeforeTheUpstreamFinishes) {
  const std::vector<std::string> events{"id: 1\ndata: one\n\n", "id: 2\ndata: two\n\n",
                                        "id: 3\ndata: three\n\n"};
  auto gate = std::make_shared<step_gate>();
  recording_upstream up(handlers::sse(events, gate));
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());

  http_client c(gw.port());
  ASSERT_TRUE(c.send(build_request("GET", "/events", {{"Accept", "text/event-stream"}})));
  std::string got;
  std::size_t seen = 0;
  const auto r = c.read_response("GET", 15s, [&](std::string_view d) {
    got += d;
    while (seen < events.size() && got.find(events[seen]) != std::string::npos) {
      ++seen;
      gate->release();  // now the upstream may send the next event
    }
  });
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(got, events[0] + events[1] + events[2]);
  EXPECT_EQ(seen, events.size());
  EXPECT_EQ(gate->timeouts(), 0u) << "the upstream waited in vain: keygate held back an event";
}

TEST(ProxyStreaming, WebSocketEchoThroughTheTunnel) {
  recording_upstream up(handlers::websocket_echo());
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());

  http_client c(gw.port());
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  ASSERT_TRUE(c.send(build_request("GET", "/ws",
                                   {{"Upgrade", "websocket"},
                                    {"Connection", "Upgrade"},
                                    {"Sec-WebSocket-Key", key},
                                    {"Sec-WebSocket-Version", "13"}})));
  const auto r = c.read_response("GET", 5s);
  ASSERT_EQ(r.status(), 101) << r.describe();
  EXPECT_EQ(r.header("Sec-WebSocket-Accept"), ws::accept_key(key));
  ASSERT_TRUE(r.header("Upgrade"));
  EXPECT_TRUE(iequals(*r.header("Upgrade"), "websocket"));

  ASSERT_EQ(up.request_count(), 1u);
  const auto req = up.requests()[0];
  ASSERT_TRUE(req.header("Upgrade"));
  EXPECT_TRUE(iequals(*req.header("Upgrade"), "websocket"));
  const auto conn_tokens = split_tokens(req.header("Connection").value_or(""));
  EXPECT_NE(std::find(conn_tokens.begin(), conn_tokens.end(), "upgrade"), conn_tokens.end());
  EXPECT_EQ(req.header("Sec-WebSocket-Key"), key);

  auto& buf = c.reader().buffer();
  auto roundtrip = [&](const std::string& text) -> std::optional<ws::frame> {
    if (!c.connection().send_all(ws::encode(ws::text, text, true))) return std::nullopt;
    const auto deadline = steady::now() + 5s;
    while (steady::now() < deadline) {
      if (auto f = ws::decode(buf)) return f;
      if (c.connection().read_some(buf, 1s) == io_status::closed) break;
    }
    return std::nullopt;
  };
  auto f = roundtrip("hello through keygate");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->op, ws::text);
  EXPECT_FALSE(f->masked);
  EXPECT_EQ(f->payload, "hello through keygate");
  const std::string big(70000, 'z');  // 64-bit extended length
  f = roundtrip(big);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload.size(), big.size());
  EXPECT_TRUE(f->payload == big);

  ASSERT_TRUE(c.connection().send_all(ws::encode(ws::close, "\x03\xe8", true)));
  std::string rest;
  EXPECT_TRUE(c.wait_closed(5s, &rest));
  auto closing = ws::decode(rest);
  ASSERT_TRUE(closing);
  EXPECT_EQ(closing->op, ws::close);
}

TEST(ProxyKeepAlive, SequentialRequestsReuseOneUpstreamConnection) {
  recording_upstream up;
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  constexpr int n = 10;
  http_client c(gw.port());
  for (int i = 0; i < n; ++i) {
    const auto r = c.request("GET", "/same/" + std::to_string(i));
    ASSERT_TRUE(r.complete) << r.describe();
    ASSERT_EQ(r.status(), 200);
  }
  // separate client connections share the worker's pool too
  for (int i = 0; i < n; ++i) {
    http_client other(gw.port());
    const auto r = other.request("GET", "/other/" + std::to_string(i), {{"Connection", "close"}});
    ASSERT_TRUE(r.complete) << r.describe();
    ASSERT_EQ(r.status(), 200);
  }
  EXPECT_EQ(up.request_count(), 2u * n);
  EXPECT_LE(up.connections(), 2u) << "upstream connections are not pooled (ideally exactly 1)";
}

// A client that half-closes right behind its request (request and FIN read together) gets its
// response, and keygate then closes at once instead of holding the connection until the idle
// timeout: the FIN read with the request is not lost.
TEST(ProxyKeepAlive, ClientThatHalfClosesBehindItsRequestIsAnsweredThenClosed) {
  recording_upstream up(handlers::echo(/*keep_alive=*/true));
  auto cfg = single_route_config(up);
  cfg.limit("idle_timeout", "30s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  for (int i = 0; i < 5; ++i) {
    http_client c(gw.port());
    // A first exchange, so that keygate waits on an idle kept-alive connection when the
    // request and FIN of the second arrive in one segment.
    const auto first = c.request("GET", "/first/" + std::to_string(i));
    ASSERT_TRUE(first.complete) << first.describe();
    ASSERT_TRUE(
        c.connection().send_with_fin("GET /half/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    const auto r = c.read_response("GET", 10s);
    ASSERT_TRUE(r.complete) << r.describe();
    EXPECT_EQ(r.status(), 200) << r.describe();
    EXPECT_TRUE(c.wait_closed(5s)) << "the connection was held after the client's FIN";
  }
}

TEST(ProxyKeepAlive, UpstreamThatClosesIsNotReused) {
  recording_upstream up(handlers::echo(/*keep_alive=*/false));
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (int i = 0; i < 5; ++i) {
    const auto r = c.request("GET", "/close/" + std::to_string(i));
    ASSERT_TRUE(r.complete) << r.describe();
    EXPECT_EQ(r.status(), 200) << r.describe();
  }
  EXPECT_EQ(up.request_count(), 5u);
  EXPECT_EQ(up.connections(), 5u);
  for (const auto& req : up.requests()) EXPECT_EQ(req.sequence, 0u);
}

// An upstream that closes a kept-alive connection right after answering, without saying so
// (no Connection: close), as servers with short idle timeouts do. keygate takes a hot pooled
// connection without probing it only for requests it may retry: a GET is retried once on a fresh
// connection, and a POST (never retried) is sent only after the pooled connection was probed.
// Either way every request reaches the upstream exactly once and the client sees a 200.
TEST(ProxyKeepAlive, SilentlyClosedPooledConnectionIsNeverAnError) {
  auto echo = handlers::echo(/*keep_alive=*/true);
  recording_upstream up([echo](upstream_exchange& ex) {
    echo(ex);
    ex.close_after();
  });
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (int i = 0; i < 6; ++i) {
    const bool post = i % 2 == 1;
    const auto r =
        post ? c.request("POST", "/p/" + std::to_string(i), {{"Content-Type", "text/plain"}}, "body")
             : c.request("GET", "/g/" + std::to_string(i));
    ASSERT_TRUE(r.complete) << r.describe();
    EXPECT_EQ(r.status(), 200) << i << ": " << r.describe();
    std::this_thread::sleep_for(20ms);  // the upstream's FIN arrives while the connection idles
  }
  EXPECT_EQ(up.request_count(), 6u) << "a request was sent twice or lost";
}

// Bytes an upstream sends after a complete response (here a body after a HEAD answer, as a
// buggy application might) must never become the next request's response: the pooled
// connection is probed before reuse and dropped, and the GET gets its own answer.
TEST(ProxyKeepAlive, BytesAfterACompleteResponseNeverAnswerTheNextRequest) {
  auto echo = handlers::echo(/*keep_alive=*/true);
  recording_upstream up([echo](upstream_exchange& ex) {
    if (ex.request.head.method != "HEAD") return echo(ex);
    ex.send("HTTP/1.1 200 OK\r\nContent-Length: 62\r\n\r\n");
    ex.sleep(20ms);  // the stray "body" arrives in a later segment, after keygate pooled the connection
    ex.send("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: yes\r\n\r\nsmuggled");
  });
  gateway gw(single_route_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto head = c.request("HEAD", "/h");
  ASSERT_TRUE(head.complete) << head.describe();
  EXPECT_EQ(head.status(), 200);
  std::this_thread::sleep_for(100ms);  // the stray bytes are in the pooled connection by now
  const auto r = c.request("GET", "/next");
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.describe().find("smuggled"), std::string::npos) << r.describe();
  EXPECT_EQ(r.describe().find("X-Smuggled"), std::string::npos) << r.describe();
  EXPECT_NE(r.body.find("/next"), std::string::npos) << "the GET got the upstream's echo of itself";
}

}  // namespace
}  // namespace keygate::itest

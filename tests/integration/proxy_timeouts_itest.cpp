// Client-side limits and deadlines (SPEC §2 server.limits, issue 2 item 6): header timeout
// (slowloris), keep-alive idle timeout, body idle timeout, max_connections. Deadlines are
// configured at 1 s and asserted within [0.8 s, 5 s].
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

// Sends `prefix`, then one byte of `drip` every `every` until a write fails or `stop` is set.
class dripper {
 public:
  dripper(http_client& c, std::string prefix, millis every)
      : t_([&c, prefix = std::move(prefix), every, this] {
          if (!c.connection().send_all(prefix)) return;
          for (std::size_t i = 0; !stop_; ++i) {
            std::this_thread::sleep_for(every);
            if (stop_ || !c.connection().send_all(std::string(1, static_cast<char>('a' + i % 26)), 1s))
              return;
          }
        }) {}
  ~dripper() {
    stop_ = true;
    t_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread t_;
};

TEST(ProxyTimeouts, SlowlorisClosedAtTheHeaderTimeout) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.limit("header_timeout", "1s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());

  http_client c(gw.port());
  const auto start = steady::now();
  std::string got;
  io_status end;
  {
    // A header byte every 100 ms: every single read is "recent", only a whole-head deadline stops it.
    dripper d(c, "GET /slow HTTP/1.1\r\nHost: gw.test\r\nX-Slow: ", 100ms);
    end = c.connection().read_until_close(got, 10s);
  }
  const double took = seconds_since(start);
  EXPECT_TRUE(end == io_status::closed || end == io_status::reset)
      << "still open after 10 s: " << to_string(end);
  EXPECT_GE(took, 0.8);
  EXPECT_LE(took, 5.0);
  if (!got.empty()) {
    EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << "only a 408 may precede the close: " << got;
  }
  EXPECT_EQ(up.bytes_received(), 0u);
}

TEST(ProxyTimeouts, IdleKeepAliveConnectionClosedAfterIdleTimeout) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.limit("idle_timeout", "1s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  auto r = c.request("GET", "/one");
  ASSERT_EQ(r.status(), 200) << r.describe();
  std::this_thread::sleep_for(300ms);  // well inside the idle timeout: still usable
  r = c.request("GET", "/two");
  ASSERT_EQ(r.status(), 200) << r.describe();
  const auto idle_from = steady::now();
  std::string extra;
  EXPECT_TRUE(c.wait_closed(10s, &extra)) << "idle connection not closed";
  const double took = seconds_since(idle_from);
  EXPECT_GE(took, 0.8);
  EXPECT_LE(took, 5.0);
  EXPECT_EQ(extra, "") << "bytes sent on an idle connection";
}

TEST(ProxyTimeouts, StalledBodyClosedAfterBodyIdleTimeout) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.limit("body_idle_timeout", "1s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_TRUE(c.send("POST /stall HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 100\r\n\r\n0123456789"));
  const auto from = steady::now();
  std::string got;
  const auto end = c.connection().read_until_close(got, 10s);
  const double took = seconds_since(from);
  EXPECT_TRUE(end == io_status::closed || end == io_status::reset) << to_string(end);
  EXPECT_GE(took, 0.8);
  EXPECT_LE(took, 5.0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.request_count(), 0u) << "a request with a truncated body reached the upstream complete";
}

TEST(ProxyTimeouts, SlowButSteadyBodyIsNotCutByTheIdleTimeout) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.limit("body_idle_timeout", "1s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  // 8 pieces 300 ms apart: 2.4 s in total, never 1 s idle.
  const auto body = pattern(0, 800);
  ASSERT_TRUE(c.send("POST /steady HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 800\r\n\r\n"));
  ASSERT_TRUE(c.send_slowly(body, 100, 300ms));
  const auto r = c.read_response("POST", 5s);
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200);
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_EQ(up.requests()[0].body, body);
}

TEST(ProxyTimeouts, MaxConnectionsEnforcedExistingOnesKeepWorking) {
  recording_upstream up;
  auto cfg = single_route_config(up);
  cfg.limit("max_connections", "4");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  std::this_thread::sleep_for(200ms);  // the fixture's port probes are gone

  std::vector<http_client> held;
  for (int i = 0; i < 4; ++i) {
    held.emplace_back(gw.port());
    const auto r = held.back().request("GET", "/held/" + std::to_string(i));
    ASSERT_EQ(r.status(), 200) << "connection " << i << " within the cap: " << r.describe();
  }

  // The 5th: refused at connect, or closed quickly without being served (a 503 is fine).
  std::string error;
  conn extra = conn::try_connect(gw.port(), &error, 2s);
  if (extra.valid()) {
    http_client over(std::move(extra));
    const auto start = steady::now();
    over.send(build_request("GET", "/over"));
    const auto r = over.read_response("GET", 4s);
    EXPECT_NE(r.status(), 200) << "a connection over max_connections was served";
    if (r.status() != 0) {
      EXPECT_TRUE(r.status() == 503 || r.status() == 429) << r.describe();
    }
    EXPECT_TRUE(r.status() != 0 ? over.wait_closed(3s)
                                : (r.end == io_status::closed || r.end == io_status::reset))
        << "the connection over the cap was left hanging";
    EXPECT_LE(seconds_since(start), 3.0);
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    const auto r = held[i].request("GET", "/again/" + std::to_string(i));
    EXPECT_EQ(r.status(), 200) << "held connection " << i << " broke: " << r.describe();
  }
  EXPECT_EQ(up.request_count(), 8u);

  // Freeing a slot lets a new client in.
  held.pop_back();
  const bool admitted = eventually(
      [&] {
        conn c = conn::try_connect(gw.port(), nullptr, 1s);
        if (!c.valid()) return false;
        http_client fresh(std::move(c));
        return fresh.request("GET", "/after", {}, {}, 1s).status() == 200;
      },
      5s);
  EXPECT_TRUE(admitted) << "no new connection admitted after one closed";
}

}  // namespace
}  // namespace keygate::itest

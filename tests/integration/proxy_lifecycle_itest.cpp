// Process lifecycle (SPEC §1, §9; issue 2 item 9): graceful shutdown under load loses no
// accepted request; SIGHUP reloads routing live without dropping connections; a bad reload keeps
// the old config and says why.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

TEST(ProxyLifecycle, GracefulShutdownUnderLoadLosesNoAcceptedRequest) {
  recording_upstream up;  // /sleep/MS answers after MS milliseconds
  auto cfg = single_route_config(up);
  cfg.limit("drain_timeout", "5s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());

  std::atomic<bool> term_sent{false};
  std::atomic<int> ok{0};
  std::atomic<int> dropped_after_term{0};
  std::mutex m;
  std::vector<std::string> defects;
  auto defect = [&](const std::string& what) {
    std::lock_guard lk(m);
    defects.push_back(what);
  };

  auto worker = [&](int id) {
    const auto deadline = steady::now() + 15s;
    int quiet = 0;
    while (steady::now() < deadline && quiet < 3) {
      std::string error;
      conn cn = conn::try_connect(gw.port(), &error, 1s);
      if (!cn.valid()) {
        if (!term_sent) defect("worker " + std::to_string(id) + ": connect failed before SIGTERM: " + error);
        ++quiet;
        std::this_thread::sleep_for(20ms);
        continue;
      }
      http_client c(std::move(cn));
      for (int i = 0; i < 20 && steady::now() < deadline; ++i) {
        const auto r = c.request("GET", "/sleep/50", {}, {}, 10s);
        if (r.complete && r.status() == 200) {
          ++ok;
          quiet = 0;
          if (r.head.wants_close()) break;
          continue;
        }
        if (r.status() == 0 && (r.end == io_status::closed || r.end == io_status::reset) && term_sent) {
          // Closed before any byte of a response, after SIGTERM: the request was not accepted.
          ++dropped_after_term;
          ++quiet;
          break;
        }
        defect("worker " + std::to_string(id) + (term_sent ? " (after SIGTERM)" : " (before SIGTERM)") +
               ": " + r.describe());
        ++quiet;
        break;
      }
    }
  };

  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(worker, i);
  std::this_thread::sleep_for(500ms);

  // One long request in flight across the SIGTERM: it must still complete.
  response long_r;
  std::thread long_req([&] {
    http_client c(gw.port());
    long_r = c.request("GET", "/sleep/1500", {}, {}, 10s);
  });
  std::this_thread::sleep_for(200ms);
  const int ok_before = ok;
  gw.signal(SIGTERM);
  term_sent = true;
  const auto term_at = steady::now();

  std::this_thread::sleep_for(300ms);
  {
    std::string error;
    conn late = conn::try_connect(gw.port(), &error, 1s);
    if (late.valid()) {
      http_client c(std::move(late));
      const auto r = c.request("GET", "/late", {}, {}, 3s);
      EXPECT_NE(r.status(), 200) << "a new connection was served after SIGTERM";
    }
  }

  const auto code = gw.wait_exit(10s);
  const double took = seconds_since(term_at);
  long_req.join();
  for (auto& t : workers) t.join();

  ASSERT_TRUE(code.has_value()) << "keygate did not exit within drain_timeout (+5 s slack)";
  EXPECT_EQ(*code, 0);
  EXPECT_LE(took, 5.0 + 3.0);
  EXPECT_TRUE(long_r.complete && long_r.status() == 200) << "in-flight request lost: " << long_r.describe();
  EXPECT_GT(ok_before, 10) << "the load never ran";
  std::string all;
  for (const auto& d : defects) all += d + "\n";
  EXPECT_TRUE(defects.empty()) << all;
  RecordProperty("ok_responses", ok.load());
  RecordProperty("dropped_after_term", dropped_after_term.load());
  const auto after = gw.stop(1s);  // already gone; keeps the fixture from signalling a reused pid
  (void)after;
}

gateway_config two_upstreams(const recording_upstream& a, const recording_upstream& b,
                             const std::string& target) {
  gateway_config cfg;
  cfg.upstream("a", a.url()).upstream("b", b.url()).prefix_route("/", target);
  return cfg;
}

// Which upstream answered (the echo handler names its port).
std::string served_by(const response& r, const recording_upstream& a, const recording_upstream& b) {
  const auto p = r.header("X-Upstream-Port").value_or("");
  if (p == std::to_string(a.port())) return "a";
  if (p == std::to_string(b.port())) return "b";
  return "status " + std::to_string(r.status());
}

std::string fresh_request(const gateway& gw, const recording_upstream& a, const recording_upstream& b) {
  http_client c(gw.port());
  return served_by(c.request("GET", "/which", {{"Connection", "close"}}), a, b);
}

TEST(ProxyLifecycle, SighupReloadChangesRoutingLive) {
  recording_upstream a, b;
  gateway gw(two_upstreams(a, b, "a"));
  ASSERT_TRUE(gw.started());

  http_client kept(gw.port());
  auto r = kept.request("GET", "/before");
  ASSERT_EQ(served_by(r, a, b), "a") << r.describe();

  gw.rewrite_config(two_upstreams(a, b, "b"));
  gw.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return fresh_request(gw, a, b) == "b"; }, 5s)) << "reload never took effect";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fresh_request(gw, a, b), "b");

  r = kept.request("GET", "/after");
  EXPECT_TRUE(r.complete && r.status() == 200)
      << "keep-alive connection dropped by the reload: " << r.describe();
  EXPECT_TRUE(gw.running());
}

bool log_mentions(const gateway& gw, const std::string& needle_lower, std::size_t from, millis timeout) {
  return eventually(
      [&] {
        const auto text = lower(gw.log());
        return text.size() > from && text.find(needle_lower, from) != std::string::npos;
      },
      timeout);
}

TEST(ProxyLifecycle, BadReloadKeepsTheOldConfigAndLogsWhy) {
  recording_upstream a, b;
  gateway gw(two_upstreams(a, b, "a"));
  ASSERT_TRUE(gw.started());
  http_client kept(gw.port());
  ASSERT_EQ(served_by(kept.request("GET", "/before"), a, b), "a");

  // 1. not YAML at all
  auto from = gw.log_size();
  gw.rewrite_config_text("server: {listen: [\nroutes: [\n");
  gw.signal(SIGHUP);
  EXPECT_TRUE(log_mentions(gw, "reload", from, 5s)) << "nothing logged about the failed reload";
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(fresh_request(gw, a, b), "a");

  // 2. valid YAML, invalid config: the loader's reason must be in the log
  from = gw.log_size();
  gw.rewrite_config(two_upstreams(a, b, "nope"));
  gw.signal(SIGHUP);
  EXPECT_TRUE(log_mentions(gw, "unknown upstream", from, 5s))
      << "the reason for the failed reload is not logged";
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(fresh_request(gw, a, b), "a");
  const auto r = kept.request("GET", "/still");
  EXPECT_EQ(served_by(r, a, b), "a") << r.describe();

  // 3. a good config afterwards still reloads
  gw.rewrite_config(two_upstreams(a, b, "b"));
  gw.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return fresh_request(gw, a, b) == "b"; }, 5s));
}

}  // namespace
}  // namespace keygate::itest

// Redis client layer under real faults, each test on its OWN Redis (scripts/services.sh) so that
// freezing, killing or CLIENT KILL never disturbs other tests: a frozen server (SIGSTOP) costs a
// call its deadline and then nothing (breaker); a killed one fails fast and a restarted one is
// picked up without restarting the client (on_reconnect fires); a killed subscription is
// re-established (on_resubscribed fires) and later messages arrive. Skipped without
// $KEYGATE_TEST_REDIS_URL (the signal that Redis is installed and tests may use it).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "keygate/cache/redis_client.hpp"
#include "keygate/cache/redis_subscriber.hpp"
#include "keygate/obs/metrics.hpp"
#include "support/process.hpp"

namespace keygate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

template <class F>
void run(asio::io_context& ioc, F body) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  const auto give_up = steady::now() + 90s;
  while (!done && steady::now() < give_up) {
    if (ioc.run_one_for(50ms) == 0 && ioc.stopped()) ioc.restart();
  }
  ASSERT_TRUE(done) << "test coroutine did not finish within 90 s";
  if (error) std::rethrow_exception(error);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

template <class Pred>
asio::awaitable<bool> wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto until = steady::now() + limit;
  while (!pred()) {
    if (steady::now() >= until) co_return false;
    co_await sleep_for(10ms);
  }
  co_return true;
}

std::string sh_quote(const std::string& s) {
  return "'" + s + "'";
}

// A Redis of our own: started by scripts/services.sh, stopped (and its directory removed) on
// destruction. restart() brings it back on the same port after kill().
class private_redis {
 public:
  private_redis() : svc_(dir_.path() + "/svc") {
    const std::string cmd = "bash " + sh_quote(std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh") +
                            " start " + sh_quote(svc_) + " redis >" + sh_quote(dir_.path() + "/start.log") +
                            " 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
    if (!ok_) return;
    std::ifstream env(svc_ + "/env");
    for (std::string line; std::getline(env, line);) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const auto name = line.substr(line.find(' ') + 1, eq - line.find(' ') - 1);
      const auto value = line.substr(eq + 1);
      if (name == "KEYGATE_TEST_REDIS_PORT") port_ = static_cast<unsigned short>(std::stoi(value));
      if (name == "KEYGATE_TEST_REDIS_PID") pid_ = std::stoi(value);
    }
    ok_ = port_ != 0 && pid_ > 0;
  }
  ~private_redis() {
    const std::string cmd = "bash " + sh_quote(std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh") +
                            " stop " + sh_quote(svc_) + " >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
  }
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  bool ok() const { return ok_; }
  cache::redis_options options(std::chrono::milliseconds timeout) const {
    cache::redis_options o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.timeout = timeout;
    o.backoff_initial = 50ms;
    o.backoff_max = 500ms;  // keeps recovery in these tests quick
    return o;
  }
  void freeze() { ::kill(pid_, SIGSTOP); }
  void thaw() { ::kill(pid_, SIGCONT); }
  void kill() {
    ::kill(pid_, SIGKILL);
    for (int i = 0; i < 200 && ::kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
  }
  // Same port, same files, as services.sh does it.
  bool restart() {
    const std::string d = svc_ + "/redis";
    const std::string cmd = "redis-server --port " + std::to_string(port_) + " --bind 127.0.0.1 --dir " +
                            sh_quote(d) + " --save '' --appendonly no --daemonize yes --pidfile " +
                            sh_quote(d + "/redis.pid") + " --logfile " + sh_quote(d + "/redis.log") +
                            " >/dev/null";
    if (std::system(cmd.c_str()) != 0) return false;
    if (!itest::wait_for_port(port_, 10s)) return false;
    for (int i = 0; i < 100; ++i) {
      std::ifstream pidfile(d + "/redis.pid");
      int pid = 0;
      if (pidfile >> pid && pid > 0 && pid != pid_) {
        pid_ = pid;
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  itest::temp_dir dir_;
  std::string svc_;
  unsigned short port_ = 0;
  int pid_ = 0;
  bool ok_ = false;
};

class RedisFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!itest::env("KEYGATE_TEST_REDIS_URL")) GTEST_SKIP() << "KEYGATE_TEST_REDIS_URL not set";
    redis_ = std::make_unique<private_redis>();
    ASSERT_TRUE(redis_->ok()) << "could not start a private Redis";
  }
  void TearDown() override {
    if (redis_) redis_->thaw();  // never leave a frozen server behind a failed assertion
  }
  std::uint64_t errors(const std::string& kind) {
    return metrics_.counters("keygate_dependency_errors_total", "", {"dependency", "kind"})
        .with({"redis", kind})
        .value();
  }
  std::int64_t breaker_open() {
    return metrics_.gauges("keygate_redis_breaker_open", "", {}).with({}).value();
  }
  std::uint64_t reconnects() {
    return metrics_.counters("keygate_redis_reconnects_total", "", {}).with({}).value();
  }

  // The subscription-level objects are declared after ioc_ so they are destroyed before it.
  asio::io_context ioc_;
  obs::registry metrics_;
  std::unique_ptr<private_redis> redis_;
};

TEST_F(RedisFaults, FrozenServerCostsTheDeadlineThenTheBreakerFailsFast) {
  constexpr auto timeout = 100ms;
  auto c = cache::make_redis_client(ioc_.get_executor(), redis_->options(timeout), metrics_);
  int reconnected = 0;
  c->on_reconnect([&] { ++reconnected; });
  run(ioc_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await wait_until([&] { return c->healthy(); }, 5s));
    auto set = co_await c->execute(cache::redis_command("SET", "k", "v"));
    EXPECT_TRUE(set && set->is_ok());

    redis_->freeze();
    // Concurrent calls in flight when it froze: each ends within its deadline (timeout, or
    // unavailable once the breaker drops the connection under them).
    int done = 0;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(
          ioc_,
          [&]() -> asio::awaitable<void> {
            const auto start = steady::now();
            auto r = co_await c->execute(cache::redis_command("GET", "k"));
            EXPECT_LT(steady::now() - start, timeout + 500ms);
            EXPECT_FALSE(r);
            if (!r) {
              EXPECT_TRUE(r.error() == errc::cache_timeout || r.error() == errc::cache_unavailable);
            }
            ++done;
          },
          asio::detached);
    }
    EXPECT_TRUE(co_await wait_until([&] { return done == 10; }, 5s));
    EXPECT_FALSE(c->healthy());  // >= 3 consecutive timeouts opened the breaker
    EXPECT_GE(errors("timeout"), 3u);
    EXPECT_EQ(breaker_open(), 1);

    // Breaker open: no call waits any more.
    for (int i = 0; i < 20; ++i) {
      const auto start = steady::now();
      auto r = co_await c->execute(cache::redis_command("GET", "k"));
      EXPECT_LT(steady::now() - start, timeout / 2);
      EXPECT_FALSE(r);
      if (!r) {
        EXPECT_EQ(r.error(), errc::cache_unavailable);
      }
    }
    // Probes keep failing while it stays frozen (a TCP accept is not an answer).
    co_await sleep_for(600ms);
    EXPECT_FALSE(c->healthy());
    EXPECT_EQ(reconnected, 0);

    redis_->thaw();
    EXPECT_TRUE(co_await wait_until([&] { return c->healthy(); }, 10s));
    auto get = co_await c->execute(cache::redis_command("GET", "k"));
    EXPECT_TRUE(get && get->str == "v");
  });
  EXPECT_EQ(reconnected, 1);
  EXPECT_EQ(reconnects(), 1u);
  EXPECT_EQ(breaker_open(), 0);
}

TEST_F(RedisFaults, KilledServerFailsFastAndARestartIsPickedUp) {
  constexpr auto timeout = 100ms;
  auto c = cache::make_redis_client(ioc_.get_executor(), redis_->options(timeout), metrics_);
  auto sub = cache::make_redis_subscriber(ioc_.get_executor(), redis_->options(timeout), metrics_);
  int reconnected = 0, resubscribed = 0;
  std::vector<std::string> got;
  c->on_reconnect([&] { ++reconnected; });
  sub->subscribe(
      "inv", [&](std::string_view m) { got.emplace_back(m); }, [&] { ++resubscribed; });
  run(ioc_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await wait_until([&] { return c->healthy() && sub->healthy(); }, 5s));

    redis_->kill();
    // The EOF is noticed without any traffic; then calls fail at once.
    EXPECT_TRUE(co_await wait_until([&] { return !c->healthy() && !sub->healthy(); }, 5s));
    for (int i = 0; i < 20; ++i) {
      const auto start = steady::now();
      auto r = co_await c->execute(cache::redis_command("GET", "k"));
      EXPECT_LT(steady::now() - start, timeout / 2);
      EXPECT_FALSE(r);
      if (!r) {
        EXPECT_EQ(r.error(), errc::cache_unavailable);
      }
    }

    EXPECT_TRUE(redis_->restart());
    EXPECT_TRUE(co_await wait_until([&] { return c->healthy() && sub->healthy(); }, 10s));
    EXPECT_TRUE(co_await wait_until([&] { return reconnected == 1 && resubscribed == 1; }, 5s));
    auto set = co_await c->execute(cache::redis_command("SET", "k", "after"));
    EXPECT_TRUE(set && set->is_ok());
    auto n = co_await cache::publish(*c, "inv", "m-after-restart");
    EXPECT_TRUE(n && n->integer == 1);
    EXPECT_TRUE(co_await wait_until([&] { return got.size() == 1; }, 5s));
  });
  EXPECT_EQ(reconnected, 1);
  EXPECT_EQ(resubscribed, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "m-after-restart");
}

TEST_F(RedisFaults, KilledSubscriptionIsReestablishedAndReported) {
  auto opts = redis_->options(200ms);
  auto c = cache::make_redis_client(ioc_.get_executor(), opts, metrics_);
  auto sub = cache::make_redis_subscriber(ioc_.get_executor(), opts, metrics_);
  int resubscribed = 0, reconnected = 0;
  std::vector<std::string> got;
  c->on_reconnect([&] { ++reconnected; });
  sub->subscribe(
      "inv", [&](std::string_view m) { got.emplace_back(m); }, [&] { ++resubscribed; });
  run(ioc_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await wait_until([&] { return c->healthy() && sub->healthy(); }, 5s));
    co_await cache::publish(*c, "inv", "before");
    EXPECT_TRUE(co_await wait_until([&] { return got.size() == 1; }, 5s));

    auto killed = co_await c->execute(cache::redis_command("CLIENT", "KILL", "TYPE", "pubsub"));
    EXPECT_TRUE(killed && killed->integer == 1);
    EXPECT_TRUE(co_await wait_until([&] { return resubscribed == 1 && sub->healthy(); }, 10s));
    auto n = co_await cache::publish(*c, "inv", "after");
    EXPECT_TRUE(n && n->integer == 1);
    EXPECT_TRUE(co_await wait_until([&] { return got.size() == 2; }, 5s));
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "after");
  EXPECT_EQ(resubscribed, 1);
  EXPECT_EQ(reconnected, 0);  // the command connection was never touched
}

TEST_F(RedisFaults, ServerDownAtStartThenUpCountsAsAReconnect) {
  auto opts = redis_->options(100ms);
  redis_->kill();
  auto c = cache::make_redis_client(ioc_.get_executor(), opts, metrics_);
  auto sub = cache::make_redis_subscriber(ioc_.get_executor(), opts, metrics_);
  int reconnected = 0, resubscribed = 0;
  c->on_reconnect([&] { ++reconnected; });
  sub->subscribe(
      "inv", [](std::string_view) {}, [&] { ++resubscribed; });
  run(ioc_, [&]() -> asio::awaitable<void> {
    co_await sleep_for(200ms);
    auto r = co_await c->execute(cache::redis_command("PING"));
    EXPECT_TRUE(!r && r.error() == errc::cache_unavailable);
    EXPECT_TRUE(redis_->restart());
    // Whatever was written or published meanwhile was missed: both callbacks must fire.
    EXPECT_TRUE(co_await wait_until([&] { return reconnected == 1 && resubscribed == 1; }, 10s));
  });
  EXPECT_TRUE(c->healthy());
  EXPECT_TRUE(sub->healthy());
}

}  // namespace
}  // namespace keygate

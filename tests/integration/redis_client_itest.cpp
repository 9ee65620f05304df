// Redis client layer against the shared test Redis ($KEYGATE_TEST_REDIS_URL; skipped without it):
// command round trips, binary safety, error replies as values, URL parsing, database selection,
// concurrency from several coroutines, unreachable server, pub/sub delivery. Fault injection
// (freeze, kill, restart, CLIENT KILL) is in redis_faults_itest.cpp on private instances.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <random>

#include "keygate/cache/redis_client.hpp"
#include "keygate/cache/redis_subscriber.hpp"
#include "keygate/obs/metrics.hpp"
#include "support/process.hpp"

namespace keygate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using cache::redis_reply;
using argv_t = std::vector<std::string>;

// Runs the coroutine `body()` on `ioc` until it finishes (clients keep background work queued,
// so ioc.run() would not return). Fails the test after a minute rather than hanging.
template <class F>
void run(asio::io_context& ioc, F body) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (!done && std::chrono::steady_clock::now() < give_up) {
    if (ioc.run_one_for(50ms) == 0 && ioc.stopped()) ioc.restart();
  }
  ASSERT_TRUE(done) << "test coroutine did not finish within 60 s";
  if (error) std::rethrow_exception(error);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

template <class Pred>
asio::awaitable<bool> wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    co_await sleep_for(10ms);
  }
  co_return true;
}

std::string unique(const std::string& base) {
  static std::mt19937_64 rng{std::random_device{}()};
  return "keygate-itest:" + base + ":" + std::to_string(rng());
}

std::uint64_t errors(obs::registry& r, const std::string& kind) {
  return r.counters("keygate_dependency_errors_total", "", {"dependency", "kind"})
      .with({"redis", kind})
      .value();
}

class RedisClient : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = itest::env("KEYGATE_TEST_REDIS_URL");
    if (!url) GTEST_SKIP() << "KEYGATE_TEST_REDIS_URL not set";
    auto o = cache::parse_redis_url(*url);
    ASSERT_TRUE(o) << *url;
    options_ = *o;
    options_.timeout = 500ms;  // functional tests: generous, the deadline tests are elsewhere
  }

  std::unique_ptr<cache::redis_client> connected_client() {
    auto c = cache::make_redis_client(ioc_.get_executor(), options_, metrics_);
    run(ioc_, [&]() -> asio::awaitable<void> {
      EXPECT_TRUE(co_await wait_until([&] { return c->healthy(); }, 5s));
    });
    return c;
  }

  asio::io_context ioc_;
  obs::registry metrics_;
  cache::redis_options options_;
};

TEST(RedisUrl, ParsesHostPortDbAndRejectsTheRest) {
  auto a = cache::parse_redis_url("redis://127.0.0.1:6390/3");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6390);
  EXPECT_EQ(a->db, 3);
  auto b = cache::parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "cache.internal");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->db, 0);
  auto c = cache::parse_redis_url("redis://[::1]:7000/");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 7000);
  for (const char* bad :
       {"", "http://h:1", "redis://", "redis://:6379", "redis://h:", "redis://h:0", "redis://h:70000",
        "redis://h:12x", "redis://h/-1", "redis://h/x", "redis://u:p@h", "redis://h?db=1", "redis://[::1"})
    EXPECT_FALSE(cache::parse_redis_url(bad)) << bad;
  config::redis cfg{"redis://h:1/2", "ns", 75ms};
  auto d = cache::make_redis_options(cfg);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->timeout, 75ms);
}

TEST_F(RedisClient, SetGetNxPxDelAndBinaryValues) {
  auto c = connected_client();
  const auto key = unique("basic");
  const std::string binary("a\0b\r\n\xff", 6);
  run(ioc_, [&]() -> asio::awaitable<void> {
    auto set = co_await c->execute(cache::redis_command("SET", key, binary, "PX", "60000", "NX"));
    EXPECT_TRUE(set && set->is_ok());
    auto again = co_await c->execute(cache::redis_command("SET", key, "other", "PX", "60000", "NX"));
    EXPECT_TRUE(again && again->is_nil());  // NX: not replaced
    auto get = co_await c->execute(cache::redis_command("GET", key));
    EXPECT_TRUE(get && get->kind == redis_reply::type::string && get->str == binary);
    auto ttl = co_await c->execute(cache::redis_command("PTTL", key));
    EXPECT_TRUE(ttl && ttl->kind == redis_reply::type::integer && ttl->integer > 0 && ttl->integer <= 60000);
    auto del = co_await c->execute(cache::redis_command("DEL", key, key + ":absent"));
    EXPECT_TRUE(del && del->integer == 1);
    auto gone = co_await c->execute(cache::redis_command("GET", key));
    EXPECT_TRUE(gone && gone->is_nil());
    // A binary key, and an array reply.
    const std::string bkey = key + std::string("\0k", 2);
    co_await c->execute(cache::redis_command("RPUSH", bkey, "x", binary));
    auto range = co_await c->execute(cache::redis_command("LRANGE", bkey, "0", "-1"));
    EXPECT_TRUE(range && range->kind == redis_reply::type::array && range->elements.size() == 2 &&
                range->elements[1].str == binary);
    co_await c->execute(cache::redis_command("DEL", bkey));
    // Short PX expires.
    co_await c->execute(cache::redis_command("SET", key, "v", "PX", "50"));
    bool expired = false;
    for (int i = 0; i < 250 && !expired; ++i) {
      co_await sleep_for(20ms);
      auto g = co_await c->execute(cache::redis_command("GET", key));
      expired = g && g->is_nil();
    }
    EXPECT_TRUE(expired);
  });
  EXPECT_EQ(errors(metrics_, "timeout"), 0u);
  EXPECT_EQ(errors(metrics_, "unavailable"), 0u);
}

TEST_F(RedisClient, ErrorReplyIsAValueNotAFailure) {
  auto c = connected_client();
  const auto key = unique("wrongtype");
  run(ioc_, [&]() -> asio::awaitable<void> {
    co_await c->execute(cache::redis_command("SET", key, "text"));
    auto r = co_await c->execute(cache::redis_command("INCR", key));
    EXPECT_TRUE(r && r->is_error());
    if (r) {
      EXPECT_NE(r->str.find("ERR"), std::string::npos);
    }
    auto unknown = co_await c->execute(cache::redis_command("NO-SUCH-COMMAND"));
    EXPECT_TRUE(unknown && unknown->is_error());
    auto ok = co_await c->execute(cache::redis_command("DEL", key));  // the connection is still fine
    EXPECT_TRUE(ok && ok->integer == 1);
  });
  EXPECT_EQ(errors(metrics_, "error"), 2u);
  EXPECT_TRUE(c->healthy());
}

TEST_F(RedisClient, SelectsTheDatabaseFromTheUrl) {
  options_.db = 5;
  auto c5 = connected_client();
  options_.db = 0;
  auto c0 = connected_client();
  const auto key = unique("db");
  run(ioc_, [&]() -> asio::awaitable<void> {
    co_await c5->execute(cache::redis_command("SET", key, "in5", "PX", "60000"));
    auto in0 = co_await c0->execute(cache::redis_command("EXISTS", key));
    EXPECT_TRUE(in0 && in0->integer == 0);
    auto in5 = co_await c5->execute(cache::redis_command("GET", key));
    EXPECT_TRUE(in5 && in5->str == "in5");
    co_await c5->execute(cache::redis_command("DEL", key));
  });
}

TEST_F(RedisClient, ManyConcurrentCommandsFromSeveralCoroutines) {
  auto c = connected_client();
  const auto counter = unique("counter");
  constexpr int coroutines = 8, rounds = 200;
  int finished = 0, mismatches = 0, failures = 0;
  for (int w = 0; w < coroutines; ++w) {
    asio::co_spawn(
        ioc_,
        [&, w]() -> asio::awaitable<void> {
          for (int i = 0; i < rounds; ++i) {
            const auto key = counter + ":" + std::to_string(w) + ":" + std::to_string(i % 10);
            const auto value = std::to_string(w * 100000 + i);
            auto set = co_await c->execute(cache::redis_command("SET", key, value, "PX", "60000"));
            auto get = co_await c->execute(cache::redis_command("GET", key));
            auto incr = co_await c->execute(cache::redis_command("INCR", counter));
            if (!set || !get || !incr)
              ++failures;
            else if (get->str != value)
              ++mismatches;
          }
          ++finished;
        },
        asio::detached);
  }
  run(ioc_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await wait_until([&] { return finished == coroutines; }, 30s));
    auto total = co_await c->execute(cache::redis_command("GET", counter));
    EXPECT_TRUE(total && total->str == std::to_string(coroutines * rounds));
    argv_t del{"DEL", counter};
    for (int w = 0; w < coroutines; ++w)
      for (int k = 0; k < 10; ++k) del.push_back(counter + ":" + std::to_string(w) + ":" + std::to_string(k));
    co_await c->execute(std::move(del));
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(mismatches, 0);
}

TEST_F(RedisClient, UnreachableServerFailsFastAndIsCounted) {
  options_.host = "127.0.0.1";
  options_.port = itest::free_port();  // nothing listens there
  auto c = cache::make_redis_client(ioc_.get_executor(), options_, metrics_);
  run(ioc_, [&]() -> asio::awaitable<void> {
    co_await sleep_for(50ms);  // let the first attempt fail
    for (int i = 0; i < 10; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto r = co_await c->execute(cache::redis_command("GET", "k"));
      EXPECT_LT(std::chrono::steady_clock::now() - start, 250ms);
      EXPECT_FALSE(r);
      if (!r) {
        EXPECT_EQ(r.error(), errc::cache_unavailable);
      }
    }
  });
  EXPECT_FALSE(c->healthy());
  EXPECT_EQ(errors(metrics_, "unavailable"), 10u);
  EXPECT_EQ(metrics_.gauges("keygate_redis_breaker_open", "", {}).with({}).value(), 1);
  c.reset();
  EXPECT_EQ(metrics_.gauges("keygate_redis_breaker_open", "", {}).with({}).value(), 0);
}

TEST_F(RedisClient, SubscriberReceivesPublishedMessages) {
  auto c = connected_client();
  auto sub = cache::make_redis_subscriber(ioc_.get_executor(), options_, metrics_);
  const auto channel = unique("chan");
  std::vector<std::string> got;
  int resubscribed = 0;
  sub->subscribe(
      channel, [&](std::string_view m) { got.emplace_back(m); }, [&] { ++resubscribed; });
  const std::string binary("\0x\xfe", 3);
  run(ioc_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await wait_until([&] { return sub->healthy(); }, 5s));
    auto n = co_await cache::publish(*c, channel, "hello");
    EXPECT_TRUE(n && n->integer == 1);
    co_await cache::publish(*c, channel, binary);
    co_await cache::publish(*c, channel + ":other", "not for us");
    EXPECT_TRUE(co_await wait_until([&] { return got.size() >= 2; }, 5s));
    // A second channel added on the live connection.
    sub->subscribe(
        channel + ":2", [&](std::string_view m) { got.emplace_back("2:" + std::string(m)); }, [] {});
    EXPECT_TRUE(co_await wait_until([&] { return sub->healthy(); }, 5s));
    co_await cache::publish(*c, channel + ":2", "late");
    EXPECT_TRUE(co_await wait_until([&] { return got.size() >= 3; }, 5s));
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "hello");
  EXPECT_EQ(got[1], binary);
  EXPECT_EQ(got[2], "2:late");
  EXPECT_EQ(resubscribed, 0);  // first subscription succeeded at once: nothing was missed
}

}  // namespace
}  // namespace keygate

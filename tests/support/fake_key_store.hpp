// Hand-written fakes for the data-plane store and the shared (Redis) tier, for unit tests of
// the tiered lookup and the authenticator. Single-threaded: used from one io_context.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>

#include "keygate/cache/shared_tier.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::testing {

class fake_key_store final : public store::key_store {
 public:
  std::map<std::string, store::key_record> keys;
  std::map<std::string, store::session_record> sessions;
  errc failure = errc::ok;                         // when set, every lookup fails with it
  std::chrono::milliseconds delay{0};              // simulated query time
  std::function<void(const std::string&)> during;  // runs inside the query (e.g. a revocation)
  // Change tracking (off unless `tracks_changes`): the count is `changes`; every call records
  // the oldest check it would accept.
  bool tracks_changes = false;
  std::uint64_t changes = 0;
  std::vector<std::chrono::steady_clock::time_point> checks_not_before;
  int key_queries = 0;
  int session_queries = 0;
  std::vector<std::string> touched;

  std::optional<std::uint64_t> changes_seen(std::chrono::steady_clock::time_point not_before) override {
    if (!tracks_changes) return std::nullopt;
    checks_not_before.push_back(not_before);
    return changes;
  }
  boost::asio::awaitable<result<store::key_record>> find_key_by_hash(std::string h) override {
    ++key_queries;
    co_await wait();
    if (during) during(h);
    if (failure != errc::ok) co_return failure;
    auto it = keys.find(h);
    if (it == keys.end()) co_return errc::not_found;
    co_return it->second;
  }
  boost::asio::awaitable<result<store::session_record>> find_session_by_hash(std::string h) override {
    ++session_queries;
    co_await wait();
    if (failure != errc::ok) co_return failure;
    auto it = sessions.find(h);
    if (it == sessions.end()) co_return errc::not_found;
    co_return it->second;
  }
  boost::asio::awaitable<result<void>> touch_last_used(std::vector<std::string> ids,
                                                       store::time_point) override {
    touched.insert(touched.end(), ids.begin(), ids.end());
    co_return result<void>{};
  }

 private:
  boost::asio::awaitable<void> wait() {
    if (delay.count() == 0) co_return;
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, delay);
    co_await t.async_wait(boost::asio::use_awaitable);
  }
};

class fake_shared_tier final : public cache::shared_tier {
 public:
  std::map<std::string, cache::entry_ptr> entries;
  bool down = false;
  int gets = 0;

  static std::string k(cache::credential_type t, std::string_view h) {
    return static_cast<char>(t) + std::string(h);
  }

  boost::asio::awaitable<result<cache::entry_ptr>> get(cache::credential_type t,
                                                       std::string_view h) override {
    ++gets;
    if (down) co_return errc::cache_unavailable;
    auto it = entries.find(k(t, h));
    co_return it == entries.end() ? cache::entry_ptr() : it->second;
  }
  boost::asio::awaitable<result<cache::entry_ptr>> fill(cache::credential_type t, std::string_view h,
                                                        cache::entry_ptr e,
                                                        std::chrono::milliseconds) override {
    if (down) co_return errc::cache_unavailable;
    auto [it, inserted] = entries.try_emplace(k(t, h), e);
    co_return it->second;
  }
  boost::asio::awaitable<result<void>> put(cache::credential_type t, std::string_view h, cache::entry_ptr e,
                                           std::chrono::milliseconds) override {
    if (down) co_return errc::cache_unavailable;
    entries[k(t, h)] = e;
    co_return result<void>{};
  }
};

}  // namespace keygate::testing

#include "keygate/cache/singleflight.hpp"

namespace keygate::cache {
namespace asio = boost::asio;

asio::awaitable<singleflight::value_type> singleflight::run(const std::string& key, work_fn work,
                                                            bool* leader) {
  while (true) {
    std::shared_ptr<flight> joined;
    {
      std::lock_guard lock(mutex_);
      auto [it, inserted] = flights_.try_emplace(key);
      if (inserted)
        it->second = std::make_shared<flight>();
      else
        joined = it->second;
    }
    if (leader) *leader = !joined;
    if (!joined) break;

    // Follower: park until the leader posts the result to our executor. If the flight completed
    // between our lookup and the parking, we get a null entry and look again.
    auto parked = park(key, joined);  // a named awaitable: no temporaries live across the co_await
    auto r = co_await std::move(parked);
    if (r.has_error() || *r) co_return r;
  }

  value_type result = errc::internal;
  try {
    result = co_await work();
  } catch (...) {
    // Never strand the followers: they get the internal error too.
  }
  std::vector<waiter> waiters;
  {
    std::lock_guard lock(mutex_);
    auto it = flights_.find(key);
    waiters = std::move(it->second->waiters);
    flights_.erase(it);
  }
  for (auto& w : waiters)
    asio::post(w.executor, [fn = std::move(w.complete), result]() mutable { fn(result); });
  co_return result;
}

// A plain function, not a coroutine: the initiation lambda (which owns a reference to the
// flight) is never a temporary inside a coroutine's co_await expression, where GCC 12 destroys
// such temporaries twice (observed under load as a use-after-free of the flight).
asio::awaitable<singleflight::value_type> singleflight::park(const std::string& key,
                                                             std::shared_ptr<flight> joined) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(value_type)>(
      [this, key, joined = std::move(joined)](auto handler) {
        std::unique_lock lock(mutex_);
        auto it = flights_.find(key);
        if (it != flights_.end() && it->second == joined) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          joined->waiters.push_back({asio::get_associated_executor(*h),
                                     [h](value_type v) mutable { std::move (*h)(std::move(v)); }});
          return;
        }
        lock.unlock();
        auto ex = asio::get_associated_executor(handler);
        asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(value_type(entry_ptr())); });
      },
      asio::use_awaitable);
}

std::size_t singleflight::in_flight() {
  std::lock_guard lock(mutex_);
  return flights_.size();
}

}  // namespace keygate::cache

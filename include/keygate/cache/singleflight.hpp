// keygate::cache::singleflight — coalesces concurrent lookups of one key across every worker of
// the instance (SPEC §6: "concurrent misses for one hash cause one Redis read and at most one
// Postgres query per instance").
//
// The first caller for a key (the leader) runs `work` on its own executor; callers arriving
// while it runs wait and receive the leader's result, each resumed on its own executor. The
// flight is forgotten as soon as it completes, so results are never served from here later
// (caching is the caches' job). Thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "keygate/cache/entry.hpp"
#include "keygate/core/errc.hpp"

namespace keygate::cache {

class singleflight {
 public:
  using value_type = result<entry_ptr>;
  using work_fn = std::function<boost::asio::awaitable<value_type>()>;

  // Runs `work` unless a flight for `key` is in progress; `leader` (optional) tells the caller
  // whether it ran the work itself (for metrics and tests).
  boost::asio::awaitable<value_type> run(const std::string& key, work_fn work, bool* leader = nullptr);
  std::size_t in_flight();

 private:
  // A parked follower: its executor and its (shared, so copyable) completion.
  struct waiter {
    boost::asio::any_io_executor executor;
    std::function<void(value_type)> complete;
  };
  struct flight {
    std::vector<waiter> waiters;
  };
  boost::asio::awaitable<value_type> park(const std::string& key, std::shared_ptr<flight> joined);

  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
};

}  // namespace keygate::cache

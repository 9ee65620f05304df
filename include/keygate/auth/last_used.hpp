// keygate::auth::last_used_tracker — records that API keys were used, off the request's
// critical path (SPEC §6): `touched()` costs a map lookup under a mutex; a background flush
// writes the pending ids in one batched statement at most once per second, and each key at most
// once per `debounce`. The store's statement never updates revoked keys.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "keygate/obs/metrics.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::auth {

class last_used_tracker {
 public:
  last_used_tracker(std::chrono::milliseconds debounce, obs::registry& metrics);
  // Thread-safe; called for authenticated API-key requests (the authenticator skips calls
  // inside the debounce window of the cache entry it answered from).
  void touched(const std::string& key_id, store::time_point now);
  std::chrono::milliseconds debounce() const noexcept { return debounce_; }
  // The ids due for writing (and forgets them); used by flush().
  std::vector<std::string> take_pending();
  // Writes what is pending through `store` (runs on the caller's executor).
  boost::asio::awaitable<void> flush(store::key_store& store);

 private:
  std::chrono::milliseconds debounce_;
  std::mutex mutex_;
  std::unordered_map<std::string, store::time_point> last_written_;  // key id → last time queued
  std::vector<std::string> pending_;
  obs::counter* written_;
  obs::counter* failed_;
};

}  // namespace keygate::auth

#include "keygate/auth/last_used.hpp"

#include <spdlog/spdlog.h>

namespace keygate::auth {

last_used_tracker::last_used_tracker(std::chrono::milliseconds debounce, obs::registry& metrics)
    : debounce_(debounce) {
  auto& family = metrics.counters("keygate_last_used_writes_total", "Batched last_used_at updates by outcome",
                                  {"outcome"});
  written_ = &family.with({"ok"});
  failed_ = &family.with({"failed"});
}

void last_used_tracker::touched(const std::string& key_id, store::time_point now) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = last_written_.try_emplace(key_id, now);
  if (!inserted) {
    if (now - it->second < debounce_) return;
    it->second = now;
  }
  pending_.push_back(key_id);
  // Bound the debounce memory: forget old entries when the map grows large.
  if (last_written_.size() > 200000) {
    for (auto i = last_written_.begin(); i != last_written_.end();)
      i = now - i->second >= debounce_ ? last_written_.erase(i) : std::next(i);
  }
}

std::vector<std::string> last_used_tracker::take_pending() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, {});
}

boost::asio::awaitable<void> last_used_tracker::flush(store::key_store& store) {
  auto ids = take_pending();
  if (ids.empty()) co_return;
  auto r = co_await store.touch_last_used(ids, store::clock::now());
  if (r) {
    written_->inc();
  } else {
    failed_->inc();
    spdlog::warn("last_used_at update of {} keys failed: {}", ids.size(), r.error().message());
  }
}

}  // namespace keygate::auth

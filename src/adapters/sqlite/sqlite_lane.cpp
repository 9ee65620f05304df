#include "sqlite/sqlite_lane.hpp"

#include <algorithm>

namespace keygate::sqlite {
namespace {
thread_local connection* t_current = nullptr;
}  // namespace

lane::lane(const sqlite_options& o, connection::role r, unsigned threads) : options_(o) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i)
    connections_.push_back(std::make_unique<connection>(o, r));
  for (auto& c : connections_) threads_.emplace_back([this, cp = c.get()] { thread_main(*cp); });
}

lane::~lane() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& q : queue_) q.run(errc::store_unavailable);
}

bool lane::try_submit(job j, steady::time_point queue_deadline) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) return false;
    queue_.push_back(queued{std::move(j), queue_deadline});
  }
  cv_.notify_one();
  return true;
}

connection* lane::current() noexcept {
  return t_current;
}

void lane::thread_main(connection& c) {
  t_current = &c;
  for (;;) {
    queued q;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      q = std::move(queue_.front());
      queue_.pop_front();
    }
    if (steady::now() >= q.deadline) {
      q.run(errc::store_timeout);
      continue;
    }
    q.run(&c);
    c.disarm();
  }
}

}  // namespace keygate::sqlite

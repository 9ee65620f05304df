#include "sqlite/sqlite_lane.hpp"

#include <algorithm>

namespace keygate::sqlite {
namespace {
thread_local connection* t_current = nullptr;
}  // namespace

lane::lane(const sqlite_options& o, connection::role r, unsigned threads) : queue_(o.max_queue) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i)
    connections_.push_back(std::make_unique<connection>(o, r));
  for (auto& c : connections_) threads_.emplace_back([this, cp = c.get()] { thread_main(*cp); });
}

lane::~lane() {
  queue_.stop();
  for (auto& t : threads_) t.join();
  queue_.fail_waiting();
}

connection* lane::current() noexcept {
  return t_current;
}

void lane::thread_main(connection& c) {
  t_current = &c;
  queue_.serve(c, [](connection& served) { served.disarm(); });
}

}  // namespace keygate::sqlite

#include "sqlite/thread_readers.hpp"

#include <atomic>

namespace keygate::sqlite {
namespace {

std::atomic<std::uint64_t> next_instance{1};

// This thread's connections, by thread_readers instance. A gateway thread talks to one store;
// tests create many stores over a thread's life, so entries of destroyed instances (never
// matched again: ids are not reused) are dropped once the list grows.
struct thread_entry {
  std::uint64_t instance;
  connection* conn;
};
thread_local std::vector<thread_entry> t_connections;
constexpr std::size_t max_thread_entries = 8;

}  // namespace

thread_readers::thread_readers(const sqlite_options& store_options)
    : options_(never_waiting(store_options)),
      instance_(next_instance.fetch_add(1, std::memory_order_relaxed)) {}

connection& thread_readers::for_this_thread() {
  for (const auto& e : t_connections)
    if (e.instance == instance_) return *e.conn;
  connection* c = nullptr;
  {
    std::lock_guard lock(mu_);
    connections_.push_back(std::make_unique<connection>(options_, connection::role::reader));
    c = connections_.back().get();
  }
  if (t_connections.size() >= max_thread_entries) t_connections.clear();
  t_connections.push_back({instance_, c});
  return *c;
}

}  // namespace keygate::sqlite

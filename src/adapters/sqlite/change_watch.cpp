#include "sqlite/change_watch.hpp"

#include <sqlite3.h>

namespace keygate::sqlite {
namespace {
constexpr std::string_view data_version_sql = "PRAGMA data_version";
}

change_watch::change_watch(const sqlite_options& store_options)
    : options_(never_waiting(store_options)), conn_(options_, connection::role::writer) {}

std::optional<std::uint64_t> change_watch::changes_seen(steady::time_point not_before) {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;  // a write_unseen() or another check is running
  if (data_version_ && checked_at_ >= not_before) return changes_;
  // Taken before the check: the value read covers every commit made before this moment.
  const auto started = steady::now();
  std::optional<std::int64_t> version;
  conn_.arm();
  try {
    auto st = conn_.prepare(data_version_sql);
    if (st.step()) version = st.int64(0);
  } catch (...) {
    conn_.map_current_exception();
  }
  conn_.disarm();
  if (!version) return std::nullopt;
  if (data_version_ && *data_version_ != *version) ++changes_;
  data_version_ = version;
  checked_at_ = started;
  return changes_;
}

result<void> change_watch::write_unseen(std::chrono::milliseconds busy_timeout,
                                        const std::function<result<void>(connection&)>& work) {
  std::lock_guard lock(mu_);
  sqlite3* db = nullptr;
  try {
    db = conn_.handle();
  } catch (...) {
    return conn_.map_current_exception();
  }
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  auto out = work(conn_);
  // The handle may have been dropped by an error inside `work`; a reopened one starts at 0 again.
  try {
    sqlite3_busy_timeout(conn_.handle(), 0);
  } catch (...) {
    conn_.map_current_exception();
  }
  return out;
}

}  // namespace keygate::sqlite

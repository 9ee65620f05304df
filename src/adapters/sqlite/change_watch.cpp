#include "sqlite/change_watch.hpp"

namespace keygate::sqlite {
namespace {
constexpr std::string_view data_version_sql = "PRAGMA data_version";
}

change_watch::change_watch(const sqlite_options& store_options)
    : options_([&] {
        auto o = store_options;
        o.busy_timeout = std::chrono::milliseconds(0);
        return o;
      }()),
      conn_(options_, connection::role::reader) {}

std::optional<std::uint64_t> change_watch::changes_seen(steady::time_point not_before) {
  std::lock_guard lock(mu_);
  if (data_version_ && checked_at_ >= not_before) return changes_;
  // Taken before the check: the value read covers every commit made before this moment.
  const auto started = steady::now();
  std::int64_t version = 0;
  try {
    conn_.arm();
    auto st = conn_.prepare(data_version_sql);
    if (!st.step()) return std::nullopt;
    version = st.int64(0);
    conn_.disarm();
  } catch (...) {
    conn_.disarm();
    conn_.map_current_exception();
    return std::nullopt;
  }
  if (data_version_ && *data_version_ != version) ++changes_;
  data_version_ = version;
  checked_at_ = started;
  return changes_;
}

}  // namespace keygate::sqlite

#include "keygate/cache/store_entry.hpp"

#include <optional>

namespace keygate::cache {
namespace asio = boost::asio;
namespace {

// The entry for one store answer, kept in `slot` (entry::key or entry::session) when found.
// `changes`: the store's change count from before the read.
template <class Record>
result<entry_ptr> entry_from(credential_type type, result<Record>& answer, std::optional<Record> entry::*slot,
                             std::optional<std::uint64_t> changes) {
  if (!answer && answer.error() != make_error_code(errc::not_found)) return answer.error();
  auto e = make_entry(type, answer.has_value());
  if (answer) (*e).*slot = std::move(*answer);
  e->store_changes = changes;
  return entry_ptr(std::move(e));
}

}  // namespace

asio::awaitable<result<entry_ptr>> load_entry(store::key_store& store, credential_type type,
                                              std::string sha256_hex) {
  // Counted before the read (any earlier check will do), so an unchanged count later proves
  // that the state read is still the store's.
  const auto changes = store.changes_seen(std::chrono::steady_clock::time_point::min());
  if (type == credential_type::key) {
    auto answer = co_await store.find_key_by_hash(std::move(sha256_hex));
    co_return entry_from(type, answer, &entry::key, changes);
  }
  auto answer = co_await store.find_session_by_hash(std::move(sha256_hex));
  co_return entry_from(type, answer, &entry::session, changes);
}

}  // namespace keygate::cache

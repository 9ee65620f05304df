#include "keygate/cache/store_entry.hpp"

#include <optional>

namespace keygate::cache {
namespace asio = boost::asio;
namespace {

// The entry for one store answer, kept in `slot` (entry::key or entry::session) when found.
template <class Record>
result<entry_ptr> entry_from(credential_type type, result<Record>& answer,
                             std::optional<Record> entry::*slot) {
  if (!answer) {
    if (answer.error() != make_error_code(errc::not_found)) return answer.error();
    return entry_ptr(make_entry(type, false));
  }
  auto e = make_entry(type, true);
  (*e).*slot = std::move(*answer);
  return entry_ptr(std::move(e));
}

}  // namespace

asio::awaitable<result<entry_ptr>> load_entry(store::key_store& store, credential_type type,
                                              std::string sha256_hex) {
  if (type == credential_type::key) {
    auto answer = co_await store.find_key_by_hash(std::move(sha256_hex));
    co_return entry_from(type, answer, &entry::key);
  }
  auto answer = co_await store.find_session_by_hash(std::move(sha256_hex));
  co_return entry_from(type, answer, &entry::session);
}

}  // namespace keygate::cache

#include "keygate/cache/redis_tier.hpp"

namespace keygate::cache {
namespace asio = boost::asio;

std::string redis_tier::key_of(credential_type type, std::string_view sha256_hex) const {
  std::string k = namespace_;
  k += ':';
  k += static_cast<char>(type);
  k += ':';
  k += sha256_hex;
  return k;
}

asio::awaitable<result<entry_ptr>> redis_tier::get(credential_type type, std::string_view sha256_hex) {
  // argv built outside the co_await: GCC 12 miscompiles braced string lists in coroutines.
  std::vector<std::string> argv{std::string("GET"), key_of(type, sha256_hex)};
  auto r = co_await client_.execute(std::move(argv));
  if (!r) co_return r.error();
  if (r->kind != redis_reply::type::string) co_return entry_ptr();  // nil (miss) or unexpected
  co_return deserialize(type, r->str);
}

asio::awaitable<result<entry_ptr>> redis_tier::fill(credential_type type, std::string_view sha256_hex,
                                                    entry_ptr e, std::chrono::milliseconds ttl) {
  std::vector<std::string> argv{std::string("SET"),         key_of(type, sha256_hex), serialize(*e),
                                std::string("NX"),          std::string("GET"),       std::string("PX"),
                                std::to_string(ttl.count())};
  auto r = co_await client_.execute(std::move(argv));
  if (!r) co_return r.error();
  if (r->kind == redis_reply::type::string) {
    // Not stored: an entry was already there and it wins (unless it is unreadable).
    if (auto existing = deserialize(type, r->str)) co_return existing;
  }
  if (r->is_error()) co_return errc::cache_unavailable;
  co_return e;
}

asio::awaitable<result<void>> redis_tier::put(credential_type type, std::string_view sha256_hex, entry_ptr e,
                                              std::chrono::milliseconds ttl) {
  std::vector<std::string> argv{std::string("SET"), key_of(type, sha256_hex), serialize(*e),
                                std::string("PX"), std::to_string(ttl.count())};
  auto r = co_await client_.execute(std::move(argv));
  if (!r) co_return r.error();
  if (!r->is_ok()) co_return errc::cache_unavailable;
  co_return result<void>{};
}

}  // namespace keygate::cache

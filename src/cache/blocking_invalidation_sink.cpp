#include "keygate/cache/blocking_invalidation_sink.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace keygate::cache {

result<std::size_t> blocking_invalidation_sink::invalidate(credential_type type,
                                                           std::vector<std::string> hashes) {
  if (hashes.empty()) return std::size_t{0};
  auto done = boost::asio::co_spawn(executor_, invalidator_.invalidate(type, std::move(hashes)),
                                    boost::asio::use_future);
  try {
    return done.get();
  } catch (const std::exception&) {
    return errc::invalidation_incomplete;
  }
}

result<void> blocking_invalidation_sink::keys_changed(std::span<const std::string> key_hashes) {
  auto r = invalidate(credential_type::key, {key_hashes.begin(), key_hashes.end()});
  if (!r) return r.error();
  return {};
}

result<void> blocking_invalidation_sink::sessions_changed(std::span<const std::string> token_hashes) {
  auto r = invalidate(credential_type::session, {token_hashes.begin(), token_hashes.end()});
  if (!r) return r.error();
  return {};
}

}  // namespace keygate::cache

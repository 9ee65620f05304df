#include "keygate/cache/invalidator.hpp"

#include <spdlog/spdlog.h>

#include "keygate/cache/store_entry.hpp"
#include "keygate/core/text.hpp"

namespace keygate::cache {
namespace asio = boost::asio;

std::string invalidation_channel(std::string_view namespace_prefix) {
  return std::string(namespace_prefix) + ":invalidate";
}

std::string encode_invalidation(credential_type type, const std::vector<std::string>& hashes) {
  std::string m(1, static_cast<char>(type));
  m += ':';
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i) m += ',';
    m += hashes[i];
  }
  return m;
}

bool decode_invalidation(std::string_view message,
                         const std::function<void(credential_type, std::string_view)>& fn) {
  if (message.size() < 2 || message[1] != ':' || (message[0] != 'k' && message[0] != 's')) return false;
  const auto type = static_cast<credential_type>(message[0]);
  message.remove_prefix(2);
  while (!message.empty()) {
    const auto comma = message.find(',');
    const auto hash = message.substr(0, comma);
    if (!core::is_sha256_hex(hash)) return false;
    fn(type, hash);
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
  }
  return true;
}

invalidator::invalidator(local_cache* local, store::key_store& store, shared_tier* tier, redis_client* redis,
                         std::string channel, lookup_settings settings)
    : local_(local),
      store_(store),
      tier_(tier),
      redis_(redis),
      channel_(std::move(channel)),
      settings_(settings) {}

asio::awaitable<result<std::size_t>> invalidator::invalidate(credential_type type,
                                                             std::vector<std::string> hashes, fanout how) {
  // 1. The authoritative state of every credential, before anything is written.
  std::vector<entry_ptr> states;
  states.reserve(hashes.size());
  for (const auto& h : hashes) {
    auto loaded = co_await load_entry(store_, type, h);
    if (!loaded) co_return loaded.error();
    states.push_back(std::move(*loaded));
  }

  // 2. Overwrite: Redis first (so a fill racing with us loses to the tombstone), then local.
  bool redis_ok = true;
  const auto now = store::clock::now();
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const auto ttl = entry_ttl(*states[i], settings_.positive_ttl, settings_.negative_ttl, now);
    if (tier_ && redis_ok) {
      auto put = co_await tier_->put(type, hashes[i], states[i], ttl);
      if (!put) redis_ok = false;
    }
    if (local_)
      local_->put(local_cache::key_of(type, hashes[i]), states[i], std::min(ttl, settings_.local_ttl),
                  steady::now());
  }

  // 3. Every instance drops its local copy.
  if (redis_ && redis_ok && !hashes.empty() && how == fanout::publish) {
    auto message = encode_invalidation(type, hashes);
    auto publishing = publish(*redis_, channel_, std::move(message));
    auto published = co_await std::move(publishing);
    if (!published || published->is_error()) redis_ok = false;
  }
  if (tier_ && !redis_ok) {
    spdlog::warn("invalidation of {} credential(s) incomplete: Redis unreachable", hashes.size());
    co_return errc::invalidation_incomplete;
  }
  co_return hashes.size();
}

}  // namespace keygate::cache

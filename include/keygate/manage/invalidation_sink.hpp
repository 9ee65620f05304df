// keygate::manage::invalidation_sink — where the management service reports what a committed
// mutation changed, so caches drop it (issue 5 plugs Redis pub/sub in here).
//
// Called after the transaction committed and before the service returns. A failure makes
// state-reducing calls (revoke, disable, rotate, session revoke) return
// errc::invalidation_incomplete (the mutation itself stays committed; the call is retryable).
#pragma once

#include <span>
#include <string>

#include "keygate/core/errc.hpp"

namespace keygate::manage {

class invalidation_sink {
 public:
  virtual ~invalidation_sink() = default;
  virtual result<void> keys_changed(std::span<const std::string> key_hashes) = 0;
  virtual result<void> sessions_changed(std::span<const std::string> token_hashes) = 0;
};

// Single instance without caches to purge (and the CLI before issue 5).
class no_invalidation final : public invalidation_sink {
 public:
  result<void> keys_changed(std::span<const std::string>) override { return {}; }
  result<void> sessions_changed(std::span<const std::string>) override { return {}; }
};

}  // namespace keygate::manage

// keygate::auth::authenticator — the auth phase of the request pipeline (SPEC §3, §4, §6).
//
// For each request on an `auth: required|optional` route: extract the credential → check its
// format (no I/O for a malformed one) → SHA-256 → tiered lookup → decide → identity headers.
// `auth: optional` forwards requests without any credential anonymously; `mode: shadow` logs
// `would_deny` and forwards. Store failures for uncached credentials fail closed (503).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "keygate/auth/assertion_keys.hpp"
#include "keygate/auth/key_format.hpp"
#include "keygate/auth/last_used.hpp"
#include "keygate/cache/shared_tier.hpp"
#include "keygate/cache/tiered_lookup.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/proxy/auth_phase.hpp"

namespace keygate::auth {

class authenticator final : public proxy::auth_phase {
 public:
  // `shared_tiers[w]` is worker w's Redis tier (empty vector: no Redis). `last_used` may be null.
  // `assertions` (may be null, must outlive this): while it has a current signer, allowed
  // requests get `<prefix>Assertion` (the signer is read per request: reloads take effect).
  authenticator(cache::tiered_lookup& lookup, std::vector<cache::shared_tier*> shared_tiers,
                last_used_tracker* last_used, obs::registry& metrics,
                const assertion_keys* assertions = nullptr);
  // Malformed or absent credentials and local-cache answers, without suspending.
  std::optional<proxy::phase_result> decide_now(proxy::request_context& ctx) override;
  boost::asio::awaitable<proxy::phase_result> run(proxy::request_context& ctx) override;

 private:
  // The credential after extraction and the format gate; `verdict` set when that decided.
  struct checked {
    std::optional<proxy::phase_result> verdict;
    bool is_key = true;
    cache::credential_type type = cache::credential_type::key;
    sha256_hex_t hash{};
  };
  checked check(proxy::request_context& ctx);
  proxy::phase_result conclude(proxy::request_context& ctx, const cache::entry_ptr& e, std::string_view tier,
                               bool is_key);
  proxy::phase_result finish(proxy::request_context& ctx, errc verdict);
  obs::counter& denial_counter(errc verdict);
  errc admit(proxy::request_context& ctx, const cache::entry& e);
  void note_use(const cache::entry& e, const store::key_record& k, store::time_point now);
  static errc add_assertion(proxy::request_context& ctx, const assertion_signer& signer,
                            const assertion_identity& id, store::time_point now);

  cache::tiered_lookup& lookup_;
  std::vector<cache::shared_tier*> shared_tiers_;
  last_used_tracker* last_used_;
  const assertion_keys* assertions_;
  obs::counter_family& decisions_;
  obs::counter* allowed_;
  obs::counter* fail_closed_;
  obs::counter* shadow_denied_;
  std::array<std::atomic<obs::counter*>, 128> denials_{};  // by errc value, filled on first use
};

}  // namespace keygate::auth

#include "keygate/auth/assertion_keys.hpp"

#include <nlohmann/json.hpp>

namespace keygate::auth {
namespace {

bool same_settings(const config::assertion& a, const config::assertion& b) {
  return a.signing_key_file == b.signing_key_file && a.audience == b.audience && a.ttl == b.ttl;
}

}  // namespace

void assertion_keys::install(const std::optional<config::assertion>& cfg) {
  std::lock_guard lock(mu_);
  const auto* now_current = current_.load(std::memory_order_relaxed);
  if (!cfg) {
    if (now_current) previous_ = now_current;
    current_.store(nullptr, std::memory_order_release);
    config_.reset();
    return;
  }
  // A generated key survives reloads that do not change its settings (a new one would
  // invalidate every assertion upstreams hold).
  if (now_current && cfg->signing_key_file.empty() && config_ && same_settings(*config_, *cfg)) return;
  auto fresh = std::make_unique<const assertion_signer>(*cfg);  // throws: nothing changed
  if (now_current && fresh->kid() == now_current->kid() && config_ && same_settings(*config_, *cfg)) return;
  if (now_current && fresh->kid() != now_current->kid()) previous_ = now_current;
  installed_.push_back(std::move(fresh));
  current_.store(installed_.back().get(), std::memory_order_release);
  config_ = cfg;
}

std::string assertion_keys::jwks_json() const {
  std::lock_guard lock(mu_);
  const auto* now_current = current_.load(std::memory_order_relaxed);
  if (!now_current) return {};
  auto jwks = nlohmann::json::parse(now_current->jwks_json());
  if (previous_ && previous_->kid() != now_current->kid()) {
    const auto replaced = nlohmann::json::parse(previous_->jwks_json());
    for (const auto& k : replaced["keys"]) jwks["keys"].push_back(k);
  }
  return jwks.dump();
}

}  // namespace keygate::auth

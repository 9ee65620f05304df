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
    render_jwks();
    return;
  }
  const bool unchanged = now_current && config_ && same_settings(*config_, *cfg);
  // A generated key survives reloads that do not change its settings (a new one would
  // invalidate every assertion upstreams hold).
  if (unchanged && cfg->signing_key_file.empty()) return;
  auto fresh = std::make_unique<const assertion_signer>(*cfg);  // throws: nothing changed
  if (unchanged && fresh->kid() == now_current->kid()) return;
  if (now_current && fresh->kid() != now_current->kid()) previous_ = now_current;
  installed_.push_back(std::move(fresh));
  current_.store(installed_.back().get(), std::memory_order_release);
  config_ = cfg;
  render_jwks();
}

void assertion_keys::render_jwks() {
  const auto* now_current = current_.load(std::memory_order_relaxed);
  if (!now_current) {
    jwks_.clear();
    return;
  }
  auto jwks = nlohmann::json::parse(now_current->jwks_json());
  if (previous_ && previous_->kid() != now_current->kid()) {
    const auto replaced = nlohmann::json::parse(previous_->jwks_json());
    for (const auto& k : replaced["keys"]) jwks["keys"].push_back(k);
  }
  jwks_ = jwks.dump();
}

std::string assertion_keys::jwks_json() const {
  std::lock_guard lock(mu_);
  return jwks_;
}

}  // namespace keygate::auth

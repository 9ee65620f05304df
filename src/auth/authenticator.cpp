#include "keygate/auth/authenticator.hpp"

#include <spdlog/spdlog.h>

#include "keygate/auth/credential.hpp"
#include "keygate/auth/decide.hpp"
#include "keygate/auth/key_format.hpp"
#include "keygate/http/error_response.hpp"

namespace keygate::auth {
namespace asio = boost::asio;

authenticator::authenticator(cache::tiered_lookup& lookup, std::vector<cache::shared_tier*> shared_tiers,
                             last_used_tracker* last_used, obs::registry& metrics, const assertion_signer* signer)
    : lookup_(lookup),
      shared_tiers_(std::move(shared_tiers)),
      last_used_(last_used),
      signer_(signer),
      decisions_(metrics.counters("keygate_auth_decisions_total", "Authentication decisions by result", {"result"})),
      allowed_(&decisions_.with({"ok"})),
      fail_closed_(&metrics.counters("keygate_auth_fail_closed_total",
                                     "Requests refused because the credential store was unavailable", {})
                        .with({})),
      shadow_denied_(&metrics.counters("keygate_auth_shadow_denials_total",
                                       "Denials on shadow-mode routes that were forwarded anyway", {})
                          .with({})) {}

proxy::phase_result authenticator::finish(proxy::request_context& ctx, errc verdict) {
  if (verdict == errc::ok) {
    allowed_->inc();
    return {};
  }
  // Labelled with the code the client sees (store_* errors are all "auth_unavailable").
  decisions_.with({std::string(http::describe(verdict).code)}).inc();
  if (ctx.route.mode == config::route_mode::shadow) {
    shadow_denied_->inc();
    ctx.would_deny = true;
    ctx.identity_headers.clear();
    spdlog::info("would_deny route={} request_id={} reason={} key_id={}", ctx.route.name, ctx.request_id,
                 code_name(verdict), ctx.key_id);
    return {};
  }
  return {false, verdict};
}

// Appends the signed assertion; a signing failure (not expected with a loaded key) fails the
// request closed rather than forwarding it without the assertion the upstream may require.
errc authenticator::add_assertion(proxy::request_context& ctx, const assertion_identity& id,
                                  store::time_point now) const {
  if (!signer_) return errc::ok;
  try {
    ctx.identity_headers.emplace_back(ctx.cfg.auth.identity_header_prefix + "Assertion", signer_->sign(id, now));
    return errc::ok;
  } catch (const std::exception& e) {
    spdlog::error("assertion signing failed request_id={}: {}", ctx.request_id, e.what());
    ctx.identity_headers.clear();
    return errc::internal;
  }
}

// Decision and identity for a found credential. A plain function on purpose: GCC 12 mishandles
// the temporaries of braced initializer lists inside coroutines (double destruction at -O3).
errc authenticator::admit(proxy::request_context& ctx, const cache::entry& e) {
  const auto& cfg = ctx.cfg.auth;
  const auto now = store::clock::now();
  const std::string& prefix = cfg.identity_header_prefix;
  errc verdict;
  if (e.key) {
    const auto& k = *e.key;
    ctx.auth_method = "api_key";
    ctx.key_id = k.key_id;
    ctx.tenant = k.tenant_id;
    verdict = decide(k, ctx.route, now);
    if (verdict == errc::ok) {
      std::string scopes;
      for (const auto& s : k.scopes) {
        if (!scopes.empty()) scopes += ' ';
        scopes += s;
      }
      ctx.identity_headers = {{prefix + "Tenant", k.tenant_id},   {prefix + "User", k.user_id},
                              {prefix + "Key-Id", k.key_id},      {prefix + "Auth-Method", "api_key"},
                              {prefix + "Scopes", std::move(scopes)}};
      if (last_used_) last_used_->touched(k.key_id, now);
      if (signer_) verdict = add_assertion(ctx, {k.tenant_id, k.user_id, k.key_id, "", "api_key", k.scopes}, now);
    }
  } else {
    const auto& s = *e.session;
    ctx.auth_method = "session";
    ctx.key_id = s.session_id;
    ctx.tenant = s.tenant_id;
    verdict = decide(s, ctx.route, now);
    if (verdict == errc::ok) {
      ctx.identity_headers = {{prefix + "Tenant", s.tenant_id},
                              {prefix + "User", s.user_id},
                              {prefix + "Session-Id", s.session_id},
                              {prefix + "Auth-Method", "session"},
                              {prefix + "Scopes", ""}};
      if (signer_) verdict = add_assertion(ctx, {s.tenant_id, s.user_id, "", s.session_id, "session", {}}, now);
    }
  }
  return verdict;
}

asio::awaitable<proxy::phase_result> authenticator::run(proxy::request_context& ctx) {
  const auto& cfg = ctx.cfg.auth;
  const auto cred = extract_credential(ctx.head, cfg);
  if (!cred) co_return finish(ctx, static_cast<errc>(cred.error().value()));
  if (cred->kind == credential_kind::none) {
    if (ctx.route.auth == config::auth_requirement::optional) co_return proxy::phase_result{};
    co_return finish(ctx, errc::missing_credentials);
  }

  // Format gate: a malformed credential costs no cache, Redis or Postgres access.
  const bool is_key = cred->kind == credential_kind::api_key;
  if (is_key ? !parse_key(cred->value, cfg.key_prefixes) : !is_session_token_shape(cred->value))
    co_return finish(ctx, is_key ? errc::invalid_api_key : errc::invalid_session);
  const auto hash = sha256_hex(cred->value);
  const auto type = is_key ? cache::credential_type::key : cache::credential_type::session;

  auto* shared = shared_tiers_.empty() ? nullptr : shared_tiers_[ctx.worker];
  const auto found = co_await lookup_.find(type, view(hash), shared);
  if (!found) {
    fail_closed_->inc();
    co_return finish(ctx, static_cast<errc>(found.error().value()));
  }
  ctx.cache_tier = found->tier;
  const auto& e = *found->entry;
  if (!e.found) co_return finish(ctx, is_key ? errc::invalid_api_key : errc::invalid_session);

  co_return finish(ctx, admit(ctx, e));
}

}  // namespace keygate::auth

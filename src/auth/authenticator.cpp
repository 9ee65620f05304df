#include "keygate/auth/authenticator.hpp"

#include <spdlog/spdlog.h>

#include "keygate/auth/credential.hpp"
#include "keygate/auth/decide.hpp"
#include "keygate/http/error_response.hpp"
#include "keygate/proxy/header_policy.hpp"

namespace keygate::auth {
namespace asio = boost::asio;

namespace {

// One identity header line, "<prefix><name>: <value>\r\n". Values come from the store, whose
// ids and scopes are validated at creation (no CR, LF or other control bytes).
void add_identity(std::string& out, std::string_view prefix, std::string_view name, std::string_view value) {
  out += prefix;
  proxy::append_field(out, name, value);
}

// The identity lines of a found credential (SPEC §3: tenant, user, key or session id, method,
// space-separated scopes).
void render_identity(std::string& out, const cache::entry& e, std::string_view prefix) {
  if (e.key) {
    const auto& k = *e.key;
    add_identity(out, prefix, "Tenant", k.tenant_id);
    add_identity(out, prefix, "User", k.user_id);
    add_identity(out, prefix, "Key-Id", k.key_id);
    add_identity(out, prefix, "Auth-Method", "api_key");
    out += prefix;
    out += "Scopes: ";
    for (std::size_t i = 0; i < k.scopes.size(); ++i) {
      if (i) out += ' ';
      out += k.scopes[i];
    }
    out += "\r\n";
  } else {
    const auto& s = *e.session;
    add_identity(out, prefix, "Tenant", s.tenant_id);
    add_identity(out, prefix, "User", s.user_id);
    add_identity(out, prefix, "Session-Id", s.session_id);
    add_identity(out, prefix, "Auth-Method", "session");
    add_identity(out, prefix, "Scopes", "");
  }
}

// Appends the identity lines: the entry's kept copy when it has one for this prefix, else
// rendered here (and offered to the entry, when it has room, for the requests after this one).
void append_identity(std::string& out, const cache::entry& e, std::string_view prefix) {
  if (const auto kept = e.identity ? e.identity->find(prefix) : std::nullopt) {
    out += *kept;
    return;
  }
  const auto start = out.size();
  render_identity(out, e, prefix);
  if (e.identity) e.identity->keep(prefix, std::string_view(out).substr(start));
}

}  // namespace

authenticator::authenticator(cache::tiered_lookup& lookup, std::vector<cache::shared_tier*> shared_tiers,
                             last_used_tracker* last_used, obs::registry& metrics,
                             const assertion_keys* assertions)
    : lookup_(lookup),
      shared_tiers_(std::move(shared_tiers)),
      last_used_(last_used),
      assertions_(assertions),
      decisions_(
          metrics.counters("keygate_auth_decisions_total", "Authentication decisions by result", {"result"})),
      allowed_(&decisions_.with({"ok"})),
      fail_closed_(&metrics
                        .counters("keygate_auth_fail_closed_total",
                                  "Requests refused because the credential store was unavailable", {})
                        .with({})),
      shadow_denied_(&metrics
                          .counters("keygate_auth_shadow_denials_total",
                                    "Denials on shadow-mode routes that were forwarded anyway", {})
                          .with({})) {}

obs::counter& authenticator::denial_counter(errc verdict) {
  const auto index = static_cast<std::size_t>(verdict);
  if (index >= denials_.size()) return decisions_.with({std::string(http::describe(verdict).code)});
  if (auto* c = denials_[index].load(std::memory_order_acquire)) return *c;
  // Labelled with the code the client sees (store_* errors are all "auth_unavailable").
  auto& c = decisions_.with({std::string(http::describe(verdict).code)});
  denials_[index].store(&c, std::memory_order_release);
  return c;
}

proxy::phase_result authenticator::finish(proxy::request_context& ctx, errc verdict) {
  if (verdict == errc::ok) {
    allowed_->inc();
    return {};
  }
  denial_counter(verdict).inc();
  if (ctx.route.mode == config::route_mode::shadow) {
    shadow_denied_->inc();
    ctx.would_deny = true;
    ctx.identity.clear();
    spdlog::info("would_deny route={} request_id={} reason={} key_id={}", ctx.route.name, ctx.request_id,
                 code_name(verdict), ctx.key_id);
    return {};
  }
  return {false, verdict};
}

// Appends the signed assertion; a signing failure (not expected with a loaded key) fails the
// request closed rather than forwarding it without the assertion the upstream may require.
errc authenticator::add_assertion(proxy::request_context& ctx, const assertion_signer& signer,
                                  const assertion_identity& id, store::time_point now) {
  try {
    add_identity(ctx.identity, ctx.cfg.auth.identity_header_prefix, "Assertion", signer.sign(id, now));
    return errc::ok;
  } catch (const std::exception& e) {
    spdlog::error("assertion signing failed request_id={}: {}", ctx.request_id, e.what());
    ctx.identity.clear();
    return errc::internal;
  }
}

// Reports a use of the key to the last_used tracker at most once per debounce window per
// cache entry: inside the window the hot path pays one relaxed atomic load, not the tracker's
// lock (the tracker still debounces per key id across entries and instances' refills).
void authenticator::note_use(const cache::entry& e, const store::key_record& k, store::time_point now) {
  if (!last_used_) return;
  // The tracker's own clock and unit, so both windows end at the same instant.
  const auto now_ticks = static_cast<std::int64_t>(now.time_since_epoch().count());
  const auto window = static_cast<std::int64_t>(
      std::chrono::duration_cast<store::clock::duration>(last_used_->debounce()).count());
  auto noted = e.last_use_noted.load(std::memory_order_relaxed);
  if (noted != 0 && now_ticks - noted < window) return;
  if (!e.last_use_noted.compare_exchange_strong(noted, now_ticks, std::memory_order_relaxed)) return;
  last_used_->touched(k.key_id, now);
}

// Decision and identity for a found credential. A plain function on purpose: GCC 12 mishandles
// the temporaries of braced initializer lists inside coroutines (double destruction at -O3).
errc authenticator::admit(proxy::request_context& ctx, const cache::entry& e) {
  const auto now = store::clock::now();
  const std::string_view prefix = ctx.cfg.auth.identity_header_prefix;
  std::string& id = ctx.identity;
  id.clear();
  const assertion_signer* signer = assertions_ ? assertions_->current() : nullptr;
  errc verdict;
  if (e.key) {
    const auto& k = *e.key;
    ctx.auth_method = "api_key";
    ctx.key_id = k.key_id;
    ctx.tenant = k.tenant_id;
    verdict = decide(k, ctx.route, now);
    if (verdict == errc::ok) {
      append_identity(id, e, prefix);
      note_use(e, k, now);
      if (signer)
        verdict =
            add_assertion(ctx, *signer, {k.tenant_id, k.user_id, k.key_id, "", "api_key", k.scopes}, now);
    }
  } else {
    const auto& s = *e.session;
    ctx.auth_method = "session";
    ctx.key_id = s.session_id;
    ctx.tenant = s.tenant_id;
    verdict = decide(s, ctx.route, now);
    if (verdict == errc::ok) {
      append_identity(id, e, prefix);
      if (signer)
        verdict = add_assertion(ctx, *signer, {s.tenant_id, s.user_id, "", s.session_id, "session", {}}, now);
    }
  }
  return verdict;
}

authenticator::checked authenticator::check(proxy::request_context& ctx) {
  checked c;
  const auto& cfg = ctx.cfg.auth;
  const auto cred = extract_credential(ctx.head, cfg);
  if (!cred) {
    c.verdict = finish(ctx, static_cast<errc>(cred.error().value()));
    return c;
  }
  if (cred->kind == credential_kind::none) {
    c.verdict = ctx.route.auth == config::auth_requirement::optional ? proxy::phase_result{}
                                                                     : finish(ctx, errc::missing_credentials);
    return c;
  }
  // Format gate: a malformed credential costs no cache, Redis or Postgres access.
  c.is_key = cred->kind == credential_kind::api_key;
  if (c.is_key ? !parse_key(cred->value, cfg.key_prefixes) : !is_session_token_shape(cred->value)) {
    c.verdict = finish(ctx, c.is_key ? errc::invalid_api_key : errc::invalid_session);
    return c;
  }
  c.hash = sha256_hex(cred->value);
  c.type = c.is_key ? cache::credential_type::key : cache::credential_type::session;
  return c;
}

proxy::phase_result authenticator::conclude(proxy::request_context& ctx, const cache::entry_ptr& e,
                                            std::string_view tier, bool is_key) {
  ctx.cache_tier = tier;
  ctx.credential = e;
  if (!e->found) return finish(ctx, is_key ? errc::invalid_api_key : errc::invalid_session);
  return finish(ctx, admit(ctx, *e));
}

std::optional<proxy::phase_result> authenticator::decide_now(proxy::request_context& ctx) {
  const auto c = check(ctx);
  if (c.verdict) return c.verdict;
  const auto e = lookup_.find_local(c.type, view(c.hash));
  if (!e) return std::nullopt;
  return conclude(ctx, e, "local", c.is_key);
}

asio::awaitable<proxy::phase_result> authenticator::run(proxy::request_context& ctx) {
  const auto c = check(ctx);
  if (c.verdict) co_return *c.verdict;
  const std::string_view hash = view(c.hash);
  auto* shared = shared_tiers_.empty() ? nullptr : shared_tiers_[ctx.worker];
  const auto found = co_await lookup_.find(c.type, hash, shared);
  if (!found) {
    fail_closed_->inc();
    co_return finish(ctx, static_cast<errc>(found.error().value()));
  }
  co_return conclude(ctx, found->entry, found->tier, c.is_key);
}

}  // namespace keygate::auth

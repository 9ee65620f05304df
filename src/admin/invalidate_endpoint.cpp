// POST /cache/invalidate (SPEC §5): one target of key_hash | key_id | session_id | user_id |
// tenant_id. Ownership is read from the store (never a cache) and checked before anything is
// purged; the purge rewrites Redis with fresh state and publishes on the bus before 200.
#include <spdlog/spdlog.h>

#include "admin/api_support.hpp"
#include "keygate/admin/strict_json.hpp"
#include "keygate/core/text.hpp"
#include "keygate/manage/credential_scan.hpp"
#include "keygate/manage/ownership.hpp"
#include "keygate/manage/validation.hpp"

namespace keygate::admin {
namespace asio = boost::asio;

namespace {

struct target {
  std::string kind;  // key_hash | key_id | session_id | user_id | tenant_id
  std::string value;
};

// What a target resolves to in the store: its owner and the credentials to purge.
struct resolution {
  bool exists = false;
  std::string tenant_id;
  std::optional<std::string> user_id;  // nullopt: every user of the tenant
  std::vector<std::string> key_hashes;
  std::vector<std::string> session_hashes;
};

std::optional<json_error> parse_target(const std::string& body, target& t) {
  nlohmann::json j;
  if (auto e = parse_object(body, {"key_hash", "key_id", "session_id", "user_id", "tenant_id"}, j)) return e;
  if (j.size() != 1)
    return json_error{errc::unprocessable, "exactly one of key_hash, key_id, session_id, user_id, tenant_id"};
  const auto& [kind, value] = *j.items().begin();
  if (!value.is_string()) return json_error{errc::unprocessable, kind + " must be a string"};
  t.kind = kind;
  t.value = value.get<std::string>();
  const bool valid = t.kind == "key_hash"     ? core::is_sha256_hex(t.value)
                     : t.kind == "key_id"     ? manage::is_valid_generated_id(t.value, "key")
                     : t.kind == "session_id" ? manage::is_valid_generated_id(t.value, "ses")
                                              : manage::is_valid_external_id(t.value);
  if (!valid)
    return json_error{errc::unprocessable, t.kind == "key_hash"
                                               ? "key_hash must be 64 lowercase hex characters"
                                               : t.kind + " is not a valid id"};
  return std::nullopt;
}

// Every credential (keys and sessions) of a tenant or of one of its users.
result<void> collect(store::store_tx& tx, std::string_view tenant, std::optional<std::string_view> user,
                     resolution& out) {
  manage::credential_hashes found;
  if (auto r = manage::collect_credentials(tx, tenant, user, found); !r) return r;
  out.key_hashes = std::move(found.keys);
  out.session_hashes = std::move(found.sessions);
  return {};
}

// Blocking: runs on the management pool, in one read transaction.
result<resolution> resolve(store::management_store& store, const target& t) {
  resolution out;
  auto r = store.transact([&](store::store_tx& tx) -> result<void> {
    const auto missing = [](const auto& res) {
      return !res && res.error() == make_error_code(errc::not_found);
    };
    if (t.kind == "key_id") {
      auto k = tx.get_key(t.value, false);
      if (missing(k)) return {};
      if (!k) return k.error();
      out = {true, k->tenant_id, k->user_id, {k->key_hash}, {}};
    } else if (t.kind == "session_id") {
      auto s = tx.get_session(t.value, false);
      if (missing(s)) return {};
      if (!s) return s.error();
      out = {true, s->tenant_id, s->user_id, {}, {s->token_hash}};
    } else if (t.kind == "user_id") {
      auto u = tx.get_user(t.value, false);
      if (missing(u)) return {};
      if (!u) return u.error();
      out = {true, u->tenant_id, u->id, {}, {}};
      if (auto e = collect(tx, u->tenant_id, std::string_view(u->id), out); !e) return e;
    } else {  // tenant_id
      auto tn = tx.get_tenant(t.value);
      if (missing(tn)) return {};
      if (!tn) return tn.error();
      out = {true, tn->id, std::nullopt, {}, {}};
      if (auto e = collect(tx, tn->id, std::nullopt, out); !e) return e;
    }
    return {};
  });
  if (!r) return r.error();
  return out;
}

// Plain functions: braced lists stay out of coroutines (GCC 12 destroys their temporaries twice).
resolution key_resolution(const store::key_record& k, const std::string& hash) {
  return {true, k.tenant_id, k.user_id, {hash}, {}};
}

response invalidated(const request& req, std::size_t n, std::string_view request_id) {
  return json_ok(req, http::status::ok, nlohmann::json{{"invalidated", n}, {"request_id", request_id}});
}

}  // namespace

asio::awaitable<response> handle_invalidate(const request& req, const caller_info& who, api_context& ctx) {
  const auto request_id = request_id_of(req);
  if (req.method() != http::verb::post) {
    auto res = error_response(req, errc::method_not_allowed, request_id);
    res.set(http::field::allow, "POST");
    co_return res;
  }
  target t;
  if (auto e = parse_target(req.body(), t)) co_return error_response(req, e->code, request_id, e->message);
  auto caller = co_await authenticate_caller(req, who, request_id, ctx);
  if (!caller) co_return error_response(req, static_cast<errc>(caller.error().value()), request_id);
  if (!ctx.store || !ctx.management || !ctx.sink)
    co_return error_response(req, errc::store_unavailable, request_id);

  // Ownership, from the store. A store failure means it cannot be verified: 503, nothing purged.
  resolution found;
  if (t.kind == "key_hash") {
    auto k = co_await ctx.store->find_key_by_hash(t.value);
    if (k)
      found = key_resolution(*k, t.value);
    else if (k.error() != make_error_code(errc::not_found))
      co_return error_response(req, static_cast<errc>(k.error().value()), request_id);
  } else {
    auto r = co_await on_pool(ctx, [&] { return resolve(*ctx.management, t); });
    if (!r) co_return error_response(req, static_cast<errc>(r.error().value()), request_id);
    found = std::move(*r);
  }
  if (!found.exists) co_return invalidated(req, 0, request_id);
  const std::optional<std::string_view> owner =
      found.user_id ? std::optional<std::string_view>(*found.user_id) : std::nullopt;
  if (auto v = manage::may_invalidate(*caller, found.tenant_id, owner); v != errc::ok)
    co_return error_response(req, v, request_id, "target belongs to another tenant or user");

  auto purged = co_await on_pool(ctx, [&]() -> result<std::size_t> {
    auto keys = ctx.sink->invalidate(cache::credential_type::key, found.key_hashes);
    if (!keys) return keys;
    auto sessions = ctx.sink->invalidate(cache::credential_type::session, found.session_hashes);
    if (!sessions) return sessions;
    return *keys + *sessions;
  });
  ctx.metrics->counters("keygate_invalidations_total", "Cache invalidations by outcome", {"outcome"})
      .with({purged ? "ok" : "failed"})
      .inc();
  spdlog::info("cache invalidate {}={} by {} request_id={}: {}", t.kind,
               t.kind == "key_hash" ? t.value.substr(0, 12) : t.value, caller->audit_name(), request_id,
               purged ? "ok" : "incomplete");
  if (!purged) co_return error_response(req, static_cast<errc>(purged.error().value()), request_id);
  co_return invalidated(req, *purged, request_id);
}

}  // namespace keygate::admin

// The /v1 key and session management endpoints (SPEC §5) and the registration of every
// authenticated internal endpoint. Each handler: authenticate → parse → one manage::service call
// on the management pool → masked JSON view. Secrets appear only in create/rotate responses.
#include "keygate/admin/management_api.hpp"

#include "admin/api_support.hpp"
#include "keygate/admin/strict_json.hpp"
#include "keygate/manage/views.hpp"

namespace keygate::admin {
namespace asio = boost::asio;

asio::awaitable<response> handle_invalidate(const request& req, const caller_info& who, api_context& ctx);

namespace {

// "/v1/keys/<id>[/<action>]" → {id, action}
std::pair<std::string, std::string> split_key_path(std::string_view path, std::string_view base) {
  auto rest = path.substr(base.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {std::string(rest), {}};
  return {std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

template <class T, class View>
response outcome_response(const request& req, const manage::outcome<T>& o, std::string_view request_id,
                          http::status ok_status, View view) {
  if (!o) return manage_error_response(req, o.error(), request_id);
  return json_ok(req, ok_status, view(*o));
}

std::optional<json_error> read_create_key(const request& req, manage::create_key_request& r) {
  nlohmann::json j;
  if (auto e = parse_object(
          req.body(), {"tenant_id", "user_id", "name", "description", "scopes", "role", "expires_at"}, j))
    return e;
  try {
    if (j.contains("tenant_id")) r.tenant_id = j.at("tenant_id").get<std::string>();
    if (j.contains("user_id")) r.user_id = j.at("user_id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.description = j.value("description", std::string());
    r.scopes = j.value("scopes", std::vector<std::string>{});
    if (j.contains("role")) {
      r.role = core::parse_role(j.at("role").get<std::string>());
      if (!r.role) return json_error{errc::unprocessable, "role must be viewer, member, admin or owner"};
    }
    if (j.contains("expires_at")) {
      r.expires_at = manage::parse_rfc3339(j.at("expires_at").get<std::string>());
      if (!r.expires_at) return json_error{errc::unprocessable, "expires_at must be an RFC 3339 time"};
    }
  } catch (const nlohmann::json::exception&) {
    return json_error{errc::unprocessable, "name is required; fields must have the documented types"};
  }
  return std::nullopt;
}

nlohmann::json created_view(const manage::created_key& c) {
  auto j = manage::to_json(c.key, store::clock::now());
  j["secret"] = c.secret;  // shown once
  return j;
}

asio::awaitable<response> handle_keys(const request& req, const caller_info& who, api_context& ctx) {
  const auto request_id = request_id_of(req);
  if (!ctx.service) co_return error_response(req, errc::store_unavailable, request_id);
  auto caller = co_await authenticate_caller(req, who, request_id, ctx);
  if (!caller) co_return error_response(req, static_cast<errc>(caller.error().value()), request_id);
  const manage::actor a = *caller;
  auto& svc = *ctx.service;
  const auto path = req.target().substr(0, req.target().find('?'));
  const auto now = store::clock::now();
  const auto key_view = [now](const store::api_key& k) { return manage::to_json(k, now); };

  if (path == "/v1/keys") {
    if (req.method() == http::verb::get) {
      const auto tenant = query_param(req.target(), "tenant_id");
      const auto user = query_param(req.target(), "user_id");
      auto o = co_await on_pool(ctx, [&] {
        return svc.list_keys(
            a,
            tenant ? tenant
                   : std::optional<std::string>(
                         a.tenant_id.empty() ? std::nullopt : std::optional<std::string>(a.tenant_id)),
            user);
      });
      co_return outcome_response(req, o, request_id, http::status::ok, [&](const auto& keys) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& k : keys) list.push_back(key_view(k));
        return nlohmann::json{{"keys", list}};
      });
    }
    if (req.method() == http::verb::post) {
      manage::create_key_request r;
      if (auto e = read_create_key(req, r)) co_return error_response(req, e->code, request_id, e->message);
      auto o = co_await on_pool(ctx, [&] { return svc.create_key(a, r); });
      co_return outcome_response(req, o, request_id, http::status::created, created_view);
    }
    auto res = error_response(req, errc::method_not_allowed, request_id);
    res.set(http::field::allow, "GET, POST");
    co_return res;
  }

  const auto [id, action] = split_key_path(path, "/v1/keys/");
  const auto verb = req.method();
  if (action.empty() && verb == http::verb::get) {
    auto o = co_await on_pool(ctx, [&] { return svc.show_key(a, id); });
    co_return outcome_response(req, o, request_id, http::status::ok, key_view);
  }
  if ((action.empty() && verb == http::verb::delete_) || (action == "revoke" && verb == http::verb::post)) {
    auto o = co_await on_pool(ctx, [&] { return svc.revoke_key(a, id); });
    co_return outcome_response(req, o, request_id, http::status::ok, key_view);
  }
  if ((action == "enable" || action == "disable") && verb == http::verb::post) {
    auto o = co_await on_pool(
        ctx, [&] { return action == "enable" ? svc.enable_key(a, id) : svc.disable_key(a, id); });
    co_return outcome_response(req, o, request_id, http::status::ok, key_view);
  }
  if (action == "rotate" && verb == http::verb::post) {
    nlohmann::json j;
    if (auto e = parse_object(req.body(), {"grace_seconds"}, j, true))
      co_return error_response(req, e->code, request_id, e->message);
    const auto grace = j.value("grace_seconds", nlohmann::json(0));
    if (!grace.is_number_unsigned() || grace.get<std::uint64_t>() > 365ull * 86400)
      co_return error_response(req, errc::unprocessable, request_id, "grace_seconds must be 0..31536000");
    auto o = co_await on_pool(
        ctx, [&] { return svc.rotate_key(a, id, std::chrono::seconds(grace.get<std::int64_t>())); });
    co_return outcome_response(req, o, request_id, http::status::created, [&](const manage::rotated_key& r) {
      auto j2 = created_view(r.new_key);
      j2["old_key"] = key_view(r.old_key);
      j2["caches_invalidated"] = r.caches_invalidated;
      return j2;
    });
  }
  if (action.empty() || action == "revoke" || action == "enable" || action == "disable" ||
      action == "rotate") {
    auto res = error_response(req, errc::method_not_allowed, request_id);
    res.set(http::field::allow, action.empty() ? "GET, DELETE" : "POST");
    co_return res;
  }
  co_return error_response(req, errc::not_found, request_id, "no such endpoint");
}

asio::awaitable<response> handle_sessions(const request& req, const caller_info& who, api_context& ctx) {
  const auto request_id = request_id_of(req);
  if (!ctx.service) co_return error_response(req, errc::store_unavailable, request_id);
  auto caller = co_await authenticate_caller(req, who, request_id, ctx);
  if (!caller) co_return error_response(req, static_cast<errc>(caller.error().value()), request_id);
  if (caller->kind != manage::actor_kind::service)
    co_return error_response(req, errc::forbidden, request_id, "sessions are managed with a service token");
  const manage::actor a = *caller;
  const auto path = req.target().substr(0, req.target().find('?'));
  if (path == "/v1/sessions" && req.method() == http::verb::post) {
    nlohmann::json j;
    if (auto e = parse_object(req.body(), {"user_id", "ttl_seconds"}, j))
      co_return error_response(req, e->code, request_id, e->message);
    manage::create_session_request r;
    const auto user = j.value("user_id", nlohmann::json());
    const auto ttl = j.value("ttl_seconds", nlohmann::json(86400));
    if (!user.is_string() || !ttl.is_number_unsigned() || ttl.get<std::uint64_t>() == 0 ||
        ttl.get<std::uint64_t>() > 365ull * 86400)
      co_return error_response(req, errc::unprocessable, request_id,
                               "user_id (string) and ttl_seconds (1..31536000)");
    r.user_id = user.get<std::string>();
    r.ttl = std::chrono::seconds(ttl.get<std::int64_t>());
    auto o = co_await on_pool(ctx, [&] { return ctx.service->create_session(a, r); });
    co_return outcome_response(req, o, request_id, http::status::created,
                               [](const manage::created_session& c) {
                                 auto view = manage::to_json(c.session);
                                 view["secret"] = c.token;  // shown once
                                 return view;
                               });
  }
  if (path.starts_with("/v1/sessions/") && req.method() == http::verb::delete_) {
    const std::string id(path.substr(13));
    auto o = co_await on_pool(ctx, [&] { return ctx.service->revoke_session(a, id); });
    co_return outcome_response(req, o, request_id, http::status::ok,
                               [](const store::session& s) { return manage::to_json(s); });
  }
  auto res = error_response(req, errc::method_not_allowed, request_id);
  res.set(http::field::allow, path == "/v1/sessions" ? "POST" : "DELETE");
  co_return res;
}

asio::awaitable<response> handle_audit(const request& req, const caller_info& who, api_context& ctx) {
  const auto request_id = request_id_of(req);
  if (!ctx.service) co_return error_response(req, errc::store_unavailable, request_id);
  if (req.method() != http::verb::get) {
    auto res = error_response(req, errc::method_not_allowed, request_id);
    res.set(http::field::allow, "GET");
    co_return res;
  }
  auto caller = co_await authenticate_caller(req, who, request_id, ctx);
  if (!caller) co_return error_response(req, static_cast<errc>(caller.error().value()), request_id);
  const manage::actor a = *caller;
  auto o = co_await on_pool(ctx, [&] { return ctx.service->list_audit(a, 500); });
  co_return outcome_response(req, o, request_id, http::status::ok, [](const auto& events) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : events) list.push_back(manage::to_json(e));
    return nlohmann::json{{"events", list}};
  });
}

}  // namespace

void register_management_api(internal_server& server, api_context& ctx) {
  const auto bind = [&ctx](auto fn) {
    return [&ctx, fn](const request& req, const caller_info& who) { return fn(req, who, ctx); };
  };
  server.route("/cache/invalidate", bind(handle_invalidate));
  server.route("/v1/keys", bind(handle_keys));
  server.route("/v1/keys/", bind(handle_keys));
  server.route("/v1/sessions", bind(handle_sessions));
  server.route("/v1/sessions/", bind(handle_sessions));
  server.route("/v1/audit", bind(handle_audit));
}

}  // namespace keygate::admin

#include "admin/api_support.hpp"

#include "keygate/auth/credential.hpp"
#include "keygate/auth/decide.hpp"
#include "keygate/auth/key_format.hpp"
#include "keygate/http/error_response.hpp"
#include "keygate/proxy/request_id.hpp"

namespace keygate::admin {
namespace asio = boost::asio;

std::string request_id_of(const request& req) {
  const auto inbound = req["X-Request-Id"];
  return proxy::is_valid_request_id(inbound) ? std::string(inbound) : proxy::new_request_id();
}

response json_ok(const request& req, http::status status, const nlohmann::json& body) {
  return json_response(req, status, body.dump());
}

response error_response(const request& req, errc code, std::string_view request_id,
                        std::string_view message) {
  const auto d = keygate::http::describe(code);
  nlohmann::json body{
      {"error", d.code}, {"message", message.empty() ? d.message : message}, {"request_id", request_id}};
  auto res = json_response(req, static_cast<http::status>(d.status), body.dump());
  if (d.status == 401) res.set(http::field::www_authenticate, "Bearer realm=\"keygate\"");
  if (d.status == 503) res.set(http::field::retry_after, "1");
  return res;
}

response manage_error_response(const request& req, const manage::error& e, std::string_view request_id) {
  // Dependency failures keep their fixed message: no internal detail leaves keygate.
  const bool dependency = source_of(e.code) == error_source::dependency;
  return error_response(req, e.code, request_id,
                        dependency ? std::string_view() : std::string_view(e.message));
}

asio::awaitable<result<manage::actor>> authenticate_caller(const request& req, const caller_info& who,
                                                           std::string_view request_id, api_context& ctx) {
  const auto cfg = ctx.config();
  // A view of the Beast request as keygate's own head, for the shared credential extraction.
  keygate::http::request_head head;
  for (const auto& f : req) head.fields.push_back({f.name_string(), f.value()});

  manage::actor a;
  a.request_id = std::string(request_id);
  a.client_ip = who.client_ip;

  const auto authz = req[http::field::authorization];
  if (authz.size() > 7 && (authz.substr(0, 7) == "Bearer " || authz.substr(0, 7) == "bearer ")) {
    const auto digest = auth::sha256_hex(authz.substr(7));
    for (const auto& t : cfg->internal.service_tokens) {
      if (auth::constant_time_equal(auth::view(digest), t.sha256)) {
        a.kind = manage::actor_kind::service;
        a.name = t.name;
        a.role = core::role::owner;
        co_return a;
      }
    }
  }

  const auto cred = auth::extract_credential(head, cfg->auth);
  if (!cred) co_return cred.error();
  if (cred->kind == auth::credential_kind::none) co_return errc::missing_credentials;
  const bool is_key = cred->kind == auth::credential_kind::api_key;
  if (is_key ? !auth::parse_key(cred->value, cfg->auth.key_prefixes)
             : !auth::is_session_token_shape(cred->value))
    co_return is_key ? errc::invalid_api_key : errc::invalid_session;
  if (!ctx.lookup) co_return errc::store_unavailable;
  const auto hash = auth::sha256_hex(cred->value);
  // No Redis tier here: the internal listener has its own thread; local cache + store suffice.
  auto found = co_await ctx.lookup->find(
      is_key ? cache::credential_type::key : cache::credential_type::session, auth::view(hash), nullptr);
  if (!found) co_return found.error();
  const auto& e = *found->entry;
  if (!e.found) co_return is_key ? errc::invalid_api_key : errc::invalid_session;
  const config::route any_route;  // no scopes, no min_role: only the credential's own state counts
  const auto now = store::clock::now();
  if (e.key) {
    if (auto v = auth::decide(*e.key, any_route, now); v != errc::ok) co_return v;
    a.kind = manage::actor_kind::api_key;
    a.name = e.key->key_id;
    a.tenant_id = e.key->tenant_id;
    a.user_id = e.key->user_id;
    a.role = std::min(e.key->key_role, e.key->user_role);
    a.scopes = e.key->scopes;
  } else {
    if (auto v = auth::decide(*e.session, any_route, now); v != errc::ok) co_return v;
    a.kind = manage::actor_kind::session;
    a.name = e.session->session_id;
    a.tenant_id = e.session->tenant_id;
    a.user_id = e.session->user_id;
    a.role = e.session->user_role;
  }
  co_return a;
}

}  // namespace keygate::admin

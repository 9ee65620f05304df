// Private to the management API: caller authentication, error responses, running blocking
// service calls on the management pool.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "keygate/admin/management_api.hpp"
#include "keygate/manage/actor.hpp"

namespace keygate::admin {

// The request id of an internal call: a valid inbound X-Request-Id, or a new one.
std::string request_id_of(const request& req);

// JSON error response {"error","message","request_id"} with the status of `code`.
response error_response(const request& req, errc code, std::string_view request_id,
                        std::string_view message = {});
response manage_error_response(const request& req, const manage::error& e, std::string_view request_id);
response json_ok(const request& req, http::status status, const nlohmann::json& body);

// Authenticates the caller (service token, API key or session) into an actor. Errors:
// missing_credentials / invalid_* / key_* (401), api_access_disabled (403), store_* (503).
boost::asio::awaitable<result<manage::actor>> authenticate_caller(const request& req, const caller_info& who,
                                                                  std::string_view request_id,
                                                                  api_context& ctx);

// Runs `fn()` on the management pool and resumes on the caller's executor.
template <class F>
auto on_pool(api_context& ctx, F fn) -> boost::asio::awaitable<decltype(fn())> {
  using R = decltype(fn());
  auto out = co_await boost::asio::co_spawn(
      *ctx.pool,
      [fn = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<R>> { co_return fn(); },
      boost::asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace keygate::admin

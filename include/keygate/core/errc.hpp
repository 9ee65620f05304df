// keygate::errc — every error keygate produces on the data plane and in the management
// service, as values (boost::system::error_code with keygate's own category). Each code knows
// its source; http/error_response.hpp is the one place that maps a code to status + JSON body.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <string_view>
#include <type_traits>

namespace keygate {

enum class errc {
  ok = 0,
  // client: the request itself is wrong
  bad_request = 1,
  uri_too_long,
  headers_too_large,
  body_too_large,
  not_implemented,  // unknown transfer coding
  no_route,
  method_not_allowed,
  unprocessable,  // well-formed JSON that violates the schema
  // client: credentials and authorization
  missing_credentials = 20,
  invalid_api_key,
  key_expired,
  key_revoked,
  key_disabled,
  invalid_session,
  invalid_credentials,  // uniform_errors
  insufficient_scope,
  api_access_disabled,
  role_too_low,
  forbidden,  // tenancy/ownership violation in management calls
  // management: validation and state
  invalid_argument = 40,
  not_found,
  conflict,
  limit_exceeded,
  // dependencies
  store_unavailable = 60,
  store_timeout,
  store_overloaded,
  cache_unavailable,
  cache_timeout,
  invalidation_incomplete,
  // upstream
  upstream_unavailable = 80,
  upstream_timeout,
  upstream_bad_response,
  // keygate itself
  internal = 100,
};

enum class error_source { client, dependency, upstream, internal };

const boost::system::error_category& keygate_category() noexcept;
error_source source_of(errc e) noexcept;
// Stable snake_case code used in JSON bodies, metrics labels and logs ("key_revoked").
std::string_view code_name(errc e) noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), keygate_category()};
}

template <class T>
using result = boost::system::result<T>;

}  // namespace keygate

template <>
struct boost::system::is_error_code_enum<keygate::errc> : std::true_type {};

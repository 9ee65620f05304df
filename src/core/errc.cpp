#include "keygate/core/errc.hpp"

#include <string>

namespace keygate {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "keygate"; }
  std::string message(int ev) const override { return std::string(code_name(static_cast<errc>(ev))); }
};

}  // namespace

const boost::system::error_category& keygate_category() noexcept {
  static const category instance;
  return instance;
}

error_source source_of(errc e) noexcept {
  const int v = static_cast<int>(e);
  if (v >= 100) return error_source::internal;
  if (v >= 80) return error_source::upstream;
  if (v >= 60) return error_source::dependency;
  return error_source::client;
}

std::string_view code_name(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::bad_request:
      return "bad_request";
    case errc::uri_too_long:
      return "uri_too_long";
    case errc::headers_too_large:
      return "headers_too_large";
    case errc::body_too_large:
      return "body_too_large";
    case errc::not_implemented:
      return "not_implemented";
    case errc::no_route:
      return "no_route";
    case errc::method_not_allowed:
      return "method_not_allowed";
    case errc::unprocessable:
      return "unprocessable";
    case errc::missing_credentials:
      return "missing_credentials";
    case errc::invalid_api_key:
      return "invalid_api_key";
    case errc::key_expired:
      return "key_expired";
    case errc::key_revoked:
      return "key_revoked";
    case errc::key_disabled:
      return "key_disabled";
    case errc::invalid_session:
      return "invalid_session";
    case errc::invalid_credentials:
      return "invalid_credentials";
    case errc::insufficient_scope:
      return "insufficient_scope";
    case errc::api_access_disabled:
      return "api_access_disabled";
    case errc::role_too_low:
      return "role_too_low";
    case errc::forbidden:
      return "forbidden";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::limit_exceeded:
      return "limit_exceeded";
    case errc::store_unavailable:
      return "store_unavailable";
    case errc::store_timeout:
      return "store_timeout";
    case errc::store_overloaded:
      return "store_overloaded";
    case errc::cache_unavailable:
      return "cache_unavailable";
    case errc::cache_timeout:
      return "cache_timeout";
    case errc::invalidation_incomplete:
      return "invalidation_incomplete";
    case errc::upstream_unavailable:
      return "upstream_unavailable";
    case errc::upstream_timeout:
      return "upstream_timeout";
    case errc::upstream_bad_response:
      return "upstream_bad_response";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace keygate

#include "keygate/auth/credential.hpp"

#include "keygate/core/text.hpp"

namespace keygate::auth {
namespace {

// Finds `name` in a Cookie header value; counts occurrences so duplicates can be refused.
void scan_cookies(std::string_view header, std::string_view name, std::string_view& value, int& count) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    auto pair = header.substr(0, semi);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      value = pair.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      ++count;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
}

}  // namespace

result<credential> extract_credential(const http::request_head& req, const config::auth& cfg) noexcept {
  std::string_view authorization, api_key, cookie_value;
  int authorization_count = 0, api_key_count = 0, cookie_count = 0;
  for (const auto& f : req.fields) {
    if (core::iequals(f.name, "authorization")) {
      authorization = f.value;
      ++authorization_count;
    } else if (!cfg.api_key_header.empty() && core::iequals(f.name, cfg.api_key_header)) {
      api_key = f.value;
      ++api_key_count;
    } else if (!cfg.session_cookie.empty() && core::iequals(f.name, "cookie")) {
      scan_cookies(f.value, cfg.session_cookie, cookie_value, cookie_count);
    }
  }
  if (authorization_count > 1 || api_key_count > 1 || cookie_count > 1) return errc::bad_request;

  if (authorization_count == 1 && core::istarts_with(authorization, "bearer") &&
      (authorization.size() == 6 || authorization[6] == ' ' || authorization[6] == '\t')) {
    auto token = authorization.substr(6);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    if (token.empty()) return errc::invalid_api_key;
    return credential{credential_kind::api_key, token};
  }
  if (api_key_count == 1) {
    if (api_key.empty()) return errc::invalid_api_key;
    return credential{credential_kind::api_key, api_key};
  }
  if (cookie_count == 1) {
    if (cookie_value.empty()) return errc::invalid_session;
    return credential{credential_kind::session, cookie_value};
  }
  return credential{};
}

}  // namespace keygate::auth

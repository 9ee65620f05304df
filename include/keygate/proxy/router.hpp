// keygate::proxy router — first-match route selection (SPEC §2 `routes`) and the path-safety
// rule that makes prefix matching meaningful.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keygate/config/config.hpp"

namespace keygate::proxy {

// The path part of a request target (before '?').
std::string_view path_of(std::string_view target) noexcept;

// False for paths an upstream could resolve to somewhere else than keygate matched on:
// dot segments ("/a/../admin", also percent-encoded "%2e%2e"), backslashes, and
// percent-encoded slashes or NULs. Such requests are refused (400) rather than normalised,
// so keygate and the upstream can never disagree about which route applies.
bool is_safe_path(std::string_view path) noexcept;

// First route whose match (prefix|exact on the path, method list, host ignoring port) accepts
// the request; nullptr when none does.
const config::route* match_route(const std::vector<config::route>& routes, std::string_view method,
                                 std::string_view path, std::string_view host) noexcept;

// The target forwarded upstream: with strip_prefix the route's prefix is removed (keeping a
// leading '/'); otherwise the target unchanged.
std::string forwarded_target(const config::route& route, std::string_view target);

}  // namespace keygate::proxy

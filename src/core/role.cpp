#include "keygate/core/role.hpp"

namespace keygate::core {

std::optional<role> parse_role(std::string_view text) noexcept {
  if (text == "viewer") return role::viewer;
  if (text == "member") return role::member;
  if (text == "admin") return role::admin;
  if (text == "owner") return role::owner;
  return std::nullopt;
}

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::viewer:
      return "viewer";
    case role::member:
      return "member";
    case role::admin:
      return "admin";
    case role::owner:
      return "owner";
  }
  return "viewer";
}

}  // namespace keygate::core

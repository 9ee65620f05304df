// keygate::core::role — the ordered user/key roles of SPEC §5 (viewer < member < admin < owner).
#pragma once

#include <optional>
#include <string_view>

namespace keygate::core {

enum class role { viewer = 0, member = 1, admin = 2, owner = 3 };

std::optional<role> parse_role(std::string_view text) noexcept;
std::string_view to_string(role r) noexcept;

}  // namespace keygate::core

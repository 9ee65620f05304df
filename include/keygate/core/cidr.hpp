// keygate::core::cidr — an IPv4/IPv6 network, used for server.trusted_proxies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keygate::core {

// Addresses are held as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that a v4
// client seen on a dual-stack socket matches a v4 CIDR.
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};
  static std::optional<ip_address> parse(std::string_view text) noexcept;
};

struct cidr {
  ip_address network;
  unsigned prefix_len = 0;  // in the 128-bit space

  // "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128).
  static std::optional<cidr> parse(std::string_view text) noexcept;
  bool contains(const ip_address& a) const noexcept;
  std::string text;  // as configured, for messages
};

}  // namespace keygate::core

#include "keygate/core/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace keygate::core {

std::optional<ip_address> ip_address::parse(std::string_view text) noexcept {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  ip_address out;
  in_addr v4{};
  if (::inet_pton(AF_INET, buf, &v4) == 1) {
    out.bytes[10] = 0xff;
    out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.bytes.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<cidr> cidr::parse(std::string_view text) noexcept {
  cidr out;
  out.text = std::string(text);
  const auto slash = text.find('/');
  const auto addr = ip_address::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const bool is_v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  unsigned len = is_v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc{} || p != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    if (len > (is_v4 ? 32u : 128u)) return std::nullopt;
  }
  out.prefix_len = is_v4 ? len + 96 : len;
  out.network = *addr;
  // Normalise: clear host bits so contains() can compare directly.
  for (unsigned bit = out.prefix_len; bit < 128; ++bit)
    out.network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return out;
}

bool cidr::contains(const ip_address& a) const noexcept {
  unsigned full = prefix_len / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
  const unsigned rest = prefix_len % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
  return (a.bytes[full] & mask) == network.bytes[full];
}

}  // namespace keygate::core

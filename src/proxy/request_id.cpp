#include "keygate/proxy/request_id.hpp"

#include <cstdint>
#include <random>

namespace keygate::proxy {
namespace {

// splitmix64: fast, well-distributed; seeded per thread from the OS. Request ids must be unique,
// not unpredictable (they are never used as secrets).
std::uint64_t next_random() noexcept {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void append_hex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += hex[(v >> (i * 4)) & 0xf];
}

bool is_lower_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) noexcept { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool is_valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  std::string id;
  id.reserve(32);
  append_hex(id, next_random(), 16);
  append_hex(id, next_random(), 16);
  return id;
}

bool is_valid_traceparent(std::string_view tp) noexcept {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  const auto version = tp.substr(0, 2), trace = tp.substr(3, 32), parent = tp.substr(36, 16),
             flags = tp.substr(53, 2);
  return is_lower_hex(version) && version != "ff" && is_lower_hex(trace) && !all_zero(trace) &&
         is_lower_hex(parent) && !all_zero(parent) && is_lower_hex(flags);
}

std::string new_traceparent() {
  std::string tp = "00-";
  tp.reserve(55);
  append_hex(tp, next_random() | 1, 16);
  append_hex(tp, next_random(), 16);
  tp += '-';
  append_hex(tp, next_random() | 1, 16);
  tp += "-01";
  return tp;
}

}  // namespace keygate::proxy

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

// Writes `digits` lowercase hex digits of v at `out` (most significant first).
void put_hex(char* out, std::uint64_t v, int digits) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = hex[v & 0xf];
}

bool is_lower_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) noexcept {
  return s.find_first_not_of('0') == std::string_view::npos;
}

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

void assign_new_request_id(std::string& out) {
  out.resize(32);
  put_hex(out.data(), next_random(), 16);
  put_hex(out.data() + 16, next_random(), 16);
}

std::string new_request_id() {
  std::string id;
  assign_new_request_id(id);
  return id;
}

bool is_valid_traceparent(std::string_view tp) noexcept {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  const auto version = tp.substr(0, 2), trace = tp.substr(3, 32), parent = tp.substr(36, 16),
             flags = tp.substr(53, 2);
  return is_lower_hex(version) && version != "ff" && is_lower_hex(trace) && !all_zero(trace) &&
         is_lower_hex(parent) && !all_zero(parent) && is_lower_hex(flags);
}

void assign_new_traceparent(std::string& out) {
  out.resize(55);
  char* p = out.data();
  p[0] = '0';
  p[1] = '0';
  p[2] = '-';
  put_hex(p + 3, next_random() | 1, 16);
  put_hex(p + 19, next_random(), 16);
  p[35] = '-';
  put_hex(p + 36, next_random() | 1, 16);
  p[52] = '-';
  p[53] = '0';
  p[54] = '1';
}

std::string new_traceparent() {
  std::string tp;
  assign_new_traceparent(tp);
  return tp;
}

}  // namespace keygate::proxy

// keygate::cache::identity_memo — the identity header lines of one cache entry, rendered by the
// first request the entry admits and kept inline in the entry: later hits copy them from memory
// they load with the entry anyway, instead of following the record's strings one by one and
// formatting them again. Written at most once, by whichever request claims it first (others
// render for themselves meanwhile); read without locks once written.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace keygate::cache {

class identity_memo {
 public:
  // The kept lines, when they were rendered with `prefix` (a reload may change the prefix while
  // the entry is cached); nullopt otherwise.
  std::optional<std::string_view> find(std::string_view prefix) const noexcept;
  // Keeps `lines`, rendered with `prefix`, unless lines are already kept (or being kept) or
  // they do not fit; then every request renders its own.
  void keep(std::string_view prefix, std::string_view lines) noexcept;

 private:
  static constexpr std::size_t capacity = 320;
  enum : std::uint8_t { empty, writing, ready };
  std::atomic<std::uint8_t> state_{empty};
  std::uint16_t prefix_size_ = 0;
  std::uint16_t lines_size_ = 0;
  std::array<char, capacity> text_;  // the prefix, then the lines
};

}  // namespace keygate::cache

#include "keygate/cache/identity_memo.hpp"

#include <cstring>

namespace keygate::cache {

std::optional<std::string_view> identity_memo::find(std::string_view prefix) const noexcept {
  if (state_.load(std::memory_order_acquire) != ready) return std::nullopt;
  if (std::string_view(text_.data(), prefix_size_) != prefix) return std::nullopt;
  return std::string_view(text_.data() + prefix_size_, lines_size_);
}

void identity_memo::keep(std::string_view prefix, std::string_view lines) noexcept {
  if (prefix.size() + lines.size() > capacity) return;
  std::uint8_t expected = empty;
  if (!state_.compare_exchange_strong(expected, writing, std::memory_order_acquire)) return;
  std::memcpy(text_.data(), prefix.data(), prefix.size());
  std::memcpy(text_.data() + prefix.size(), lines.data(), lines.size());
  prefix_size_ = static_cast<std::uint16_t>(prefix.size());
  lines_size_ = static_cast<std::uint16_t>(lines.size());
  state_.store(ready, std::memory_order_release);
}

}  // namespace keygate::cache

#include "keygate/manage/validation.hpp"

#include "keygate/auth/key_format.hpp"

namespace keygate::manage {
namespace {
constexpr std::size_t generated_id_chars = 24;

bool no_control_bytes(std::string_view s) noexcept {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return false;
  return true;
}
}  // namespace

bool is_valid_external_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_id_chars) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == '_' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_generated_id(std::string_view id, std::string_view kind) noexcept {
  if (id.size() != kind.size() + 1 + generated_id_chars || id.substr(0, kind.size()) != kind ||
      id[kind.size()] != '_')
    return false;
  for (char c : id.substr(kind.size() + 1))
    if (auth::base62_alphabet.find(c) == std::string_view::npos) return false;
  return true;
}

bool is_valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= max_name_bytes && no_control_bytes(name);
}

bool is_valid_description(std::string_view d) noexcept {
  return d.size() <= max_description_bytes && no_control_bytes(d);
}

std::string new_id(std::string_view kind) {
  std::string id(kind);
  id += '_';
  id += auth::random_base62(generated_id_chars);
  return id;
}

}  // namespace keygate::manage

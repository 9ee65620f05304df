#include "shared/row_values.hpp"

#include <chrono>

namespace keygate::adapters {

std::int64_t micros(store::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::optional<std::int64_t> micros(const std::optional<store::time_point>& t) {
  if (!t) return std::nullopt;
  return micros(*t);
}

store::time_point from_micros(std::int64_t us) {
  return store::time_point(std::chrono::duration_cast<store::clock::duration>(std::chrono::microseconds(us)));
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> split_scopes(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

}  // namespace keygate::adapters

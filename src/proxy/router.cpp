#include "keygate/proxy/router.hpp"

#include "keygate/core/text.hpp"

namespace keygate::proxy {
namespace {

bool is_dot_segment(std::string_view seg) noexcept {
  // ".", "..", and their percent-encoded spellings (%2e / %2E), in any mix.
  int dots = 0;
  while (!seg.empty()) {
    if (seg.front() == '.') {
      seg.remove_prefix(1);
    } else if (seg.size() >= 3 && seg[0] == '%' && seg[1] == '2' && (seg[2] == 'e' || seg[2] == 'E')) {
      seg.remove_prefix(3);
    } else {
      return false;
    }
    if (++dots > 2) return false;
  }
  return dots > 0;
}

}  // namespace

std::string_view path_of(std::string_view target) noexcept {
  return target.substr(0, target.find('?'));
}

bool is_safe_path(std::string_view path) noexcept {
  if (path == "*") return true;
  if (path.find('\\') != std::string_view::npos) return false;
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] == '%') {
      const char a = path[i + 1], b = path[i + 2];
      if (a == '2' && (b == 'f' || b == 'F')) return false;  // %2F: encoded '/'
      if (a == '5' && (b == 'c' || b == 'C')) return false;  // %5C: encoded '\'
      if (a == '0' && b == '0') return false;                // %00
    }
  }
  std::size_t start = 0;
  while (start < path.size()) {
    const auto slash = path.find('/', start);
    const auto seg =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (is_dot_segment(seg)) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

const config::route* match_route(const std::vector<config::route>& routes, std::string_view method,
                                 std::string_view path, std::string_view host) noexcept {
  const auto host_only = [&] {
    if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
    return host.substr(0, host.rfind(':'));
  }();
  for (const auto& r : routes) {
    const auto& m = r.match;
    if (m.exact) {
      if (path != *m.exact) continue;
    } else if (m.prefix) {
      if (path.substr(0, m.prefix->size()) != *m.prefix) continue;
    }
    if (!m.methods.empty()) {
      bool ok = false;
      for (const auto& allowed : m.methods) ok = ok || allowed == method;
      if (!ok) continue;
    }
    if (m.host && !core::iequals(*m.host, host_only)) continue;
    return &r;
  }
  return nullptr;
}

std::string forwarded_target(const config::route& route, std::string_view target) {
  if (!route.strip_prefix || !route.match.prefix) return std::string(target);
  auto rest = target.substr(std::min(route.match.prefix->size(), target.size()));
  if (rest.empty() || rest.front() != '/') return "/" + std::string(rest);
  return std::string(rest);
}

}  // namespace keygate::proxy

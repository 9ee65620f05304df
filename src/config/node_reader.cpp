#include "config/node_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace keygate::config {

std::string node_reader::path_of(const std::string& key) const {
  std::string p;
  for (const auto& part : path_) {
    if (!p.empty() && part.front() != '[') p += '.';
    p += part;
  }
  if (!key.empty()) {
    if (!p.empty()) p += '.';
    p += key;
  }
  return p;
}

void node_reader::error_here(const std::string& key, const std::string& message) {
  errors_.push_back(path_of(key) + ": " + message);
}

void node_reader::error_at(const std::string& path, const std::string& message) {
  errors_.push_back(path + ": " + message);
}

std::vector<std::string> node_reader::take_errors(const std::string& source) {
  std::vector<std::string> out;
  out.reserve(errors_.size());
  for (auto& e : errors_) out.push_back(source + ": " + e);
  errors_.clear();
  return out;
}

void node_reader::object(const YAML::Node& n, std::initializer_list<const char*> allowed) {
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) {
    error_here("", "expected a map");
    return;
  }
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
      error_here(key, "unknown key");
  }
}

std::optional<YAML::Node> node_reader::child(const YAML::Node& parent, const char* key) {
  if (!parent.IsMap()) return std::nullopt;
  YAML::Node c = parent[key];
  if (!c || c.IsNull()) return std::nullopt;
  if (!c.IsMap()) {
    error_here(key, "expected a map");
    return std::nullopt;
  }
  path_.emplace_back(key);
  return c;
}

std::optional<std::string> node_reader::env_override(const std::string& dotted_path) const {
  if (dotted_path.find('[') != std::string::npos) return std::nullopt;  // list items: no override
  std::string name = "KEYGATE_";
  for (char c : dotted_path)
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                : '_';
  if (const char* v = env_(name.c_str())) return std::string(v);
  return std::nullopt;
}

std::optional<std::string> node_reader::interpolate(const std::string& text, const std::string& path) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find("${", i);
    if (start == std::string::npos) {
      out.append(text, i);
      break;
    }
    out.append(text, i, start - i);
    const auto end = text.find('}', start);
    if (end == std::string::npos) {
      error_at(path, "unterminated ${ in value");
      return std::nullopt;
    }
    std::string inner = text.substr(start + 2, end - start - 2);
    std::optional<std::string> fallback;
    if (const auto dash = inner.find(":-"); dash != std::string::npos) {
      fallback = inner.substr(dash + 2);
      inner.resize(dash);
    }
    const char* value = inner.empty() ? nullptr : env_(inner.c_str());
    if (value && *value)
      out += value;
    else if (fallback)
      out += *fallback;
    else {
      error_at(path, "environment variable " + inner + " is not set");
      return std::nullopt;
    }
    i = end + 1;
  }
  return out;
}

std::optional<std::string> node_reader::scalar(const YAML::Node& n, const char* key) {
  const std::string path = path_of(key);
  if (auto env = env_override(path)) return env;
  if (!n.IsMap()) return std::nullopt;
  YAML::Node v = n[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) {
    error_at(path, "expected a single value");
    return std::nullopt;
  }
  return interpolate(v.Scalar(), path);
}

bool node_reader::string(const YAML::Node& n, const char* key, std::string& out) {
  auto v = scalar(n, key);
  if (!v) return false;
  out = std::move(*v);
  return true;
}

bool node_reader::required_string(const YAML::Node& n, const char* key, std::string& out) {
  const auto before = errors_.size();
  if (string(n, key, out) && !out.empty()) return true;
  if (errors_.size() == before) error_here(key, "is required");
  return false;
}

bool node_reader::size(const YAML::Node& n, const char* key, std::size_t& out, std::size_t min,
                       std::size_t max) {
  auto v = scalar(n, key);
  if (!v) return false;
  std::uint64_t value = 0;
  const char* b = v->data();
  const char* e = b + v->size();
  auto [p, ec] = std::from_chars(b, e, value);
  std::uint64_t factor = 1;
  const std::string_view unit(p, static_cast<std::size_t>(e - p));
  if (unit == "KiB")
    factor = 1024;
  else if (unit == "MiB")
    factor = 1024 * 1024;
  else if (unit == "GiB")
    factor = 1024ull * 1024 * 1024;
  else if (!unit.empty())
    ec = std::errc::invalid_argument;
  if (ec != std::errc{} || p == b) {
    error_here(key, "expected a whole number (optionally with KiB/MiB/GiB), got '" + *v + "'");
    return false;
  }
  value *= factor;
  if (value < min || value > max) {
    error_here(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

bool node_reader::dur(const YAML::Node& n, const char* key, duration& out) {
  auto v = scalar(n, key);
  if (!v) return false;
  auto d = parse_duration(*v);
  if (!d) {
    error_here(key, "expected a duration such as 250ms, 10s, 5m, 1h, got '" + *v + "'");
    return false;
  }
  out = *d;
  return true;
}

bool node_reader::boolean(const YAML::Node& n, const char* key, bool& out) {
  auto v = scalar(n, key);
  if (!v) return false;
  if (*v == "true")
    out = true;
  else if (*v == "false")
    out = false;
  else {
    error_here(key, "expected true or false, got '" + *v + "'");
    return false;
  }
  return true;
}

bool node_reader::endpoint_of(const YAML::Node& n, const char* key, endpoint& out) {
  auto v = scalar(n, key);
  if (!v) return false;
  std::string host;
  std::string port;
  if (!v->empty() && (*v)[0] == '[') {
    const auto close = v->find(']');
    if (close != std::string::npos && close + 1 < v->size() && (*v)[close + 1] == ':') {
      host = v->substr(1, close - 1);
      port = v->substr(close + 2);
    }
  } else if (const auto colon = v->rfind(':'); colon != std::string::npos) {
    host = v->substr(0, colon);
    port = v->substr(colon + 1);
  }
  unsigned p = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || p > 65535) {
    error_here(key, "expected host:port, got '" + *v + "'");
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(p);
  return true;
}

std::vector<std::pair<std::string, std::string>> node_reader::string_list(const YAML::Node& n,
                                                                          const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!n.IsMap()) return out;
  YAML::Node v = n[key];
  if (!v || v.IsNull()) return out;
  if (!v.IsSequence()) {
    error_here(key, "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string path = path_of(key) + "[" + std::to_string(i) + "]";
    if (!v[i].IsScalar()) {
      error_at(path, "expected a string");
      continue;
    }
    if (auto s = interpolate(v[i].Scalar(), path)) out.emplace_back(std::move(*s), path);
  }
  return out;
}

void node_reader::each(const YAML::Node& n, const char* key,
                       const std::function<void(const YAML::Node&)>& fn) {
  if (!n.IsMap()) return;
  YAML::Node v = n[key];
  if (!v || v.IsNull()) return;
  if (!v.IsSequence()) {
    error_here(key, "expected a list");
    return;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    path_.emplace_back(key);
    path_.emplace_back("[" + std::to_string(i) + "]");
    fn(v[i]);
    path_.pop_back();
    path_.pop_back();
  }
}

}  // namespace keygate::config

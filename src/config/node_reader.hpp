// Private to the config loader: reads typed values out of a YAML tree while tracking the key
// path, collecting every error instead of stopping at the first, applying `${ENV}` interpolation
// and `KEYGATE_<PATH>` environment overrides to scalars.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/config/loader.hpp"

namespace keygate::config {

class node_reader {
 public:
  explicit node_reader(env_lookup env) : env_(std::move(env)) {}

  // Checks that `n` is a map (or absent) whose keys are all in `allowed`.
  void object(const YAML::Node& n, std::initializer_list<const char*> allowed);

  // A map child; on success the path is extended (call leave()). Non-map child → error, null.
  std::optional<YAML::Node> child(const YAML::Node& parent, const char* key);
  void enter(std::string name) { path_.push_back(std::move(name)); }
  void leave() { path_.pop_back(); }

  // Scalars. Each returns true when a value was present (file or env override) and valid.
  bool string(const YAML::Node& n, const char* key, std::string& out);
  bool required_string(const YAML::Node& n, const char* key, std::string& out);
  bool size(const YAML::Node& n, const char* key, std::size_t& out, std::size_t min, std::size_t max);
  bool dur(const YAML::Node& n, const char* key, duration& out);
  bool boolean(const YAML::Node& n, const char* key, bool& out);
  bool endpoint_of(const YAML::Node& n, const char* key, endpoint& out);
  template <class E>
  bool one_of(const YAML::Node& n, const char* key, E& out,
              std::initializer_list<std::pair<const char*, E>> choices) {
    std::string text;
    if (!string(n, key, text)) return false;
    std::string names;
    for (const auto& [name, value] : choices) {
      if (text == name) {
        out = value;
        return true;
      }
      names += names.empty() ? name : std::string("|") + name;
    }
    error_here(key, "expected one of " + names + ", got '" + text + "'");
    return false;
  }

  // Sequences: of strings (value, path for error messages), or of nodes handled by `fn`
  // (the path is "<key>[i]" while `fn` runs).
  std::vector<std::pair<std::string, std::string>> string_list(const YAML::Node& n, const char* key);
  void each(const YAML::Node& n, const char* key, const std::function<void(const YAML::Node&)>& fn);

  // Environment override for a full dotted path (for values whose section is absent).
  std::optional<std::string> env_override(const std::string& dotted_path) const;

  void error_here(const std::string& key, const std::string& message);
  void error_at(const std::string& path, const std::string& message);
  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string> take_errors(const std::string& source);
  std::string path_of(const std::string& key) const;

 private:
  // The scalar text of n[key] after env override and interpolation; nullopt when absent.
  std::optional<std::string> scalar(const YAML::Node& n, const char* key);
  std::optional<std::string> interpolate(const std::string& text, const std::string& path);

  env_lookup env_;
  std::vector<std::string> path_;
  std::vector<std::string> errors_;
};

}  // namespace keygate::config

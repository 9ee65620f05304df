#include "integration/support/proxy_helpers.hpp"

#include <sstream>
#include <thread>

namespace keygate::itest {

gateway_config single_route_config(const recording_upstream& up, const std::string& prefix) {
  gateway_config cfg;
  cfg.upstream("app", up.url()).prefix_route(prefix, "app");
  return cfg;
}

::testing::AssertionResult is_json_error(const response& r, int status,
                                         std::initializer_list<const char*> codes) {
  if (r.status() != status)
    return ::testing::AssertionFailure() << "expected status " << status << ", got " << r.describe();
  const auto ct = r.header("Content-Type");
  if (!ct || lower(*ct).rfind("application/json", 0) != 0)
    return ::testing::AssertionFailure() << "expected Content-Type application/json: " << r.describe();
  const auto j = r.json();
  if (j.is_discarded() || !j.is_object())
    return ::testing::AssertionFailure() << "body is not a JSON object: " << r.describe();
  if (!j.contains("error") || !j["error"].is_string())
    return ::testing::AssertionFailure() << "no string \"error\": " << r.describe();
  bool known = false;
  std::string expected;
  for (const char* c : codes) {
    known = known || j["error"] == c;
    expected += std::string(expected.empty() ? "" : "|") + c;
  }
  if (!known) return ::testing::AssertionFailure() << "expected error " << expected << ": " << r.describe();
  if (!j.contains("message") || !j["message"].is_string())
    return ::testing::AssertionFailure() << "no string \"message\": " << r.describe();
  if (!j.contains("request_id") || !j["request_id"].is_string() || j["request_id"].get<std::string>().empty())
    return ::testing::AssertionFailure() << "no non-empty \"request_id\": " << r.describe();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult says_close(const response& r) {
  for (const auto& v : r.head.get_all("Connection"))
    for (const auto& t : split_tokens(v))
      if (t == "close") return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no \"Connection: close\": " << r.describe();
}

namespace {

// Parses `name{a="b",c="d"} value`; false for comments/other metrics.
bool parse_sample(const std::string& line, const std::string& name,
                  std::map<std::string, std::string>& labels, double& value) {
  if (line.empty() || line[0] == '#' || line.rfind(name, 0) != 0) return false;
  std::size_t pos = name.size();
  if (pos < line.size() && line[pos] == '{') {
    const auto close = line.find('}', pos);
    if (close == std::string::npos) return false;
    std::string body = line.substr(pos + 1, close - pos - 1);
    std::size_t i = 0;
    while (i < body.size()) {
      const auto eq = body.find('=', i);
      if (eq == std::string::npos || eq + 1 >= body.size() || body[eq + 1] != '"') break;
      std::string key = trim(body.substr(i, eq - i));
      std::string val;
      std::size_t j = eq + 2;
      for (; j < body.size() && body[j] != '"'; ++j) {
        if (body[j] == '\\' && j + 1 < body.size()) ++j;
        val += body[j];
      }
      labels[key] = val;
      i = j + 1;
      if (i < body.size() && body[i] == ',') ++i;
    }
    pos = close + 1;
  }
  if (pos >= line.size() || line[pos] != ' ') return false;
  try {
    value = std::stod(line.substr(pos + 1));
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

double metric_sum(const std::string& text, const std::string& name,
                  const std::map<std::string, std::string>& want) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> labels;
    double v = 0;
    if (!parse_sample(line, name, labels, v)) continue;
    bool match = true;
    for (const auto& [k, val] : want) {
      const auto it = labels.find(k);
      match = match && it != labels.end() && it->second == val;
    }
    if (match) sum += v;
  }
  return sum;
}

bool has_metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> labels;
    double v = 0;
    if (parse_sample(line, name, labels, v)) return true;
  }
  return false;
}

response internal_get(const gateway& gw, const std::string& path) {
  http_client c(gw.internal_port());
  return c.request("GET", path, {{"Connection", "close"}});
}

bool is_lower_hex(const std::string& s, std::size_t len) {
  if (s.size() != len) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_valid_traceparent(const std::string& v) {
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16),
             flags = v.substr(53, 2);
  return version == "00" && is_lower_hex(trace, 32) && is_lower_hex(parent, 16) && is_lower_hex(flags, 2) &&
         trace != std::string(32, '0') && parent != std::string(16, '0');
}

}  // namespace keygate::itest

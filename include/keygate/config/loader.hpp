// keygate::config loader: YAML file → validated, immutable `config` (SPEC §2).
//
// Contract:
//  * every problem in the file is collected and reported at once, each with its path
//    ("server.limits.max_body_bytes: expected a byte size"), never just the first;
//  * unknown keys are errors;
//  * `${NAME}` / `${NAME:-default}` in scalar values are replaced from the environment
//    (an unset NAME without default is an error);
//  * `KEYGATE_<PATH>` environment variables override scalars, where PATH is the key path in
//    upper case joined by '_' (KEYGATE_SERVER_LISTEN, KEYGATE_STORE_POSTGRES_URL,
//    KEYGATE_SERVER_LIMITS_MAX_BODY_BYTES) — also for keys absent from the file;
//  * throws `load_error` (start-up/config time only; never on the data plane).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/config/config.hpp"

namespace keygate::config {

class load_error : public std::runtime_error {
 public:
  explicit load_error(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const noexcept { return errors_; }

 private:
  std::vector<std::string> errors_;
};

// Reads environment variables; injectable for tests.
using env_lookup = std::function<const char*(const char*)>;

config load_file(const std::string& path, const env_lookup& env = nullptr);
config load_string(std::string_view yaml, const env_lookup& env = nullptr, std::string source = "<string>");

// Config file path from --config or, when empty, $KEYGATE_CONFIG; throws load_error if neither.
std::string resolve_path(const std::string& flag_value);

// "250ms", "10s", "5m", "1h", "30d" → milliseconds; nullopt on anything else.
std::optional<duration> parse_duration(std::string_view text) noexcept;

}  // namespace keygate::config

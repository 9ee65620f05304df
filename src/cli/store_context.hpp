// Shared plumbing of the store subcommands (migrate, tenants, users, keys, sessions): loading
// the config, opening the configured store (Postgres or SQLite, adapters/store_factory.hpp), the
// one management service, exit-code mapping and output.
//
// Output contract (SPEC §1): secrets alone on stdout; list/show results on stdout (JSON with
// --json); every message and error on stderr, one line, no stack trace. Exit codes: 0 ok,
// 1 usage/validation, 2 dependency unavailable.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/cli_invalidation.hpp"
#include "keygate/config/config.hpp"
#include "keygate/manage/service.hpp"
#include "keygate/manage/views.hpp"
#include "store_backend.hpp"

namespace keygate::cli {

struct store_context {
  config::config cfg;
  std::unique_ptr<adapters::store_backend> store;
  std::unique_ptr<cli_invalidation> invalidation;  // mutations reach every instance's caches
  std::unique_ptr<manage::service> service;
};

// nullptr after printing the reason; `exit_code` is then set.
std::unique_ptr<store_context> open_store(const std::string& config_flag, int& exit_code);

// 2 for dependency errors, 1 for everything else.
int exit_code_for(errc code) noexcept;
// Prints "keygate: <message>" to stderr and returns the exit code.
int fail(const manage::error& e);
int fail_usage(const std::string& message);

// Views (to_json, format_time, parse_rfc3339, key_status) are shared with the internal API.
using manage::format_time;
using manage::key_status;
using manage::parse_rfc3339;
using manage::to_json;

}  // namespace keygate::cli

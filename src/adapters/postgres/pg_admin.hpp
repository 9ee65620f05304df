// keygate::postgres admin helpers (tests, benchmarks, tooling): one statement outside any
// transaction (CREATE/DROP DATABASE), on a short-lived connection with keygate's deadline.
#pragma once

#include <chrono>
#include <string>

#include "keygate/core/errc.hpp"

namespace keygate::postgres {

result<void> execute_admin(const std::string& url, const std::string& sql,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace keygate::postgres

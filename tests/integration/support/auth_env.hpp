// Integration-test support for the auth-path suites (tests/integration/auth_*_itest.cpp):
//
//   auth_store  a migrated temporary database (on $KEYGATE_TEST_PG_URL's server or a private
//               Postgres) with CLI helpers: tenants, users, keys, sessions (via `keygate ...`).
//   pg_session, resp_client, private_redis  see store_clients.hpp
//   auth_gateway_config()  a gateway_config with store + cache + auth set for one test.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/gateway.hpp"
#include "integration/support/http_client.hpp"
#include "integration/support/process.hpp"
#include "integration/support/proxy_helpers.hpp"
#include "integration/support/recording_upstream.hpp"
#include "integration/support/store_clients.hpp"
#include "keygate/auth/key_format.hpp"
#include "support/pg_test_db.hpp"

namespace keygate::itest {

// Sum of calls in commandstats minus the administrative/probe commands (info, ping, select,
// hello, client, command, config, subscribe...): what request traffic costs Redis.
long long traffic_calls(const std::map<std::string, long long>& stats);

// ---------------------------------------------------------------------------------------------
struct created {
  std::string id;
  std::string secret;
};

// A temporary, migrated database on `admin_url`'s server, and the CLI against it.
class auth_store {
 public:
  explicit auth_store(const std::string& admin_url);
  bool ok() const { return ok_; }
  const std::string& url() const { return db_.url(); }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& db_name() const { return db_.name(); }
  const std::string& cli_config() const { return cli_config_; }
  const std::string& setup_error() const { return error_; }

  // `keygate <args> --config CLI_CONFIG`.
  run_result cli(std::vector<std::string> args) const;
  // Each ADD_FAILUREs (and returns false / empty) when the CLI fails.
  bool tenant(const std::string& id, bool api_access = true) const;
  bool user(const std::string& tenant, const std::string& id, const std::string& role) const;
  // keys create --json; extra args such as {"--scopes", "read,write"}.
  created key(const std::string& tenant, const std::string& user, std::vector<std::string> extra = {}) const;
  created session(const std::string& user, const std::string& ttl = "1h") const;
  bool keys(const std::string& verb, const std::string& key_id) const;  // revoke|enable|disable
  // keys rotate ID --grace G --json → the new key.
  created rotate(const std::string& key_id, const std::string& grace) const;

  // One SQL statement on the test database (fresh connection).
  bool sql(const std::string& statement) const;
  std::optional<std::string> sql_scalar(const std::string& query) const;

  // pg_stat_statements calls (summed) of the statements of this database whose text contains
  // `needle`; nullopt when pg_stat_statements cannot be read.
  std::optional<long long> statement_calls(const std::string& needle) const;
  // The data-plane lookup statements.
  std::optional<long long> key_lookups() const { return statement_calls("WHERE k.key_hash = $1"); }
  std::optional<long long> session_lookups() const { return statement_calls("WHERE s.token_hash = $1"); }

 private:
  std::string admin_url_;
  test::temp_database db_;
  temp_dir dir_;
  std::string cli_config_;
  std::string error_;
  bool ok_ = false;
};

// ---------------------------------------------------------------------------------------------
// The auth suites' usual gateway: upstream "app" = up, key_prefixes kg_live/kg_test, the store.
gateway_config auth_gateway_config(const recording_upstream& up, const std::string& pg_url);
// "<ns>:k:<sha256hex>" (keys) / "<ns>:s:<sha256hex>" (sessions).
std::string redis_key(const std::string& ns, char type, const std::string& secret);

header_list bearer(const std::string& key);
// A well-formed (correct checksum) key that is in no store.
std::string unknown_key(const std::string& prefix = "kg_live");
std::string sha256_hex(const std::string& s);

// GET /metrics, and metric_sum on it.
std::string metrics_text(const gateway& gw);
double metric(const gateway& gw, const std::string& name,
              const std::map<std::string, std::string>& labels = {});

// Access-log lines (parsed JSON, "type":"access") of the gateway's log.
std::vector<nlohmann::json> access_lines(const gateway& gw);

// `r` is a 401 with `code` and WWW-Authenticate: Bearer realm="keygate".
::testing::AssertionResult is_401(const response& r, const char* code);

// RFC 3339 UTC ("2025-01-02T03:04:05Z") of a system_clock time (seconds, truncated).
std::string rfc3339(std::chrono::system_clock::time_point t);

// ---------------------------------------------------------------------------------------------
// A gtest fixture: one migrated database per suite on $KEYGATE_TEST_PG_URL's server, with
//   tenant acme (api_access true):  alice admin, bob viewer, mia member
//   tenant noapi: carol owner (created with api_access true, since keys cannot be created in a
//                 tenant without it; a test turns it off with SQL)
// Tests skip when KEYGATE_TEST_PG_URL is unset. Each test makes its own keys and gateway.
class auth_db_suite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  static const auth_store& db() { return *store_; }
  static std::unique_ptr<auth_store> store_;
};

// Skip the test when the shared services are not configured.
#define KEYGATE_REQUIRE_PG()                                                            \
  do {                                                                                  \
    if (!::keygate::test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set"; \
  } while (0)
#define KEYGATE_REQUIRE_REDIS()                                                                             \
  do {                                                                                                      \
    if (!::keygate::itest::env("KEYGATE_TEST_REDIS_URL")) GTEST_SKIP() << "KEYGATE_TEST_REDIS_URL not set"; \
  } while (0)

}  // namespace keygate::itest

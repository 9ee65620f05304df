// Integration-test support for the internal-API suites (tests/integration/internal_*_itest.cpp):
// several `keygate serve` processes sharing one Postgres database and one Redis namespace.
//
//   kc::cluster_db   a migrated temporary database (seeded by cluster_suite) and the CLI on it
//   kc::node         one `keygate serve` with a full generated config: store, cache (local +
//                    Redis), a service token on the internal listener, upstream "app" and a
//                    catch-all `auth: required` route
//   kc::sql          one statement / scalar on a database (libpq)
//   (pg_session, resp_client, private_redis: store_clients.hpp)
//
// Self-contained on purpose (it does not use gateway_config's store/cache builders, which are being
// extended concurrently): everything here lives in namespace keygate::itest::kc.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/http_client.hpp"
#include "integration/support/process.hpp"
#include "integration/support/recording_upstream.hpp"
#include "integration/support/store_clients.hpp"
#include "support/pg_test_db.hpp"

namespace keygate::itest::kc {

// ---------------------------------------------------------------------------------------------
// The service token every node accepts (its sha256 is in internal.service_tokens).
inline constexpr const char* service_token = "kgsvc-itest-7c1d4e0b9a2f4c55b1e3";
header_list svc();                                             // Authorization: Bearer <service_token>
header_list bearer(const std::string& secret);                 // Authorization: Bearer <secret>
header_list cookie(const std::string& session);                // Cookie: keygate_session=<session>
std::string sha256(const std::string& s);                      // lowercase hex
std::string fresh_key(const std::string& prefix = "kg_live");  // well-formed, in no store

// ---------------------------------------------------------------------------------------------
// One SQL statement on `url` (fresh connection); false + *error on failure.
bool sql(const std::string& url, const std::string& statement, std::string* error = nullptr);
// First column of the first row ("" when NULL / no row); nullopt on error.
std::optional<std::string> sql_scalar(const std::string& url, const std::string& query,
                                      std::string* error = nullptr);

// ---------------------------------------------------------------------------------------------
struct created_key {
  std::string id;
  std::string secret;
  std::string hash() const { return sha256(secret); }
};

// A temporary migrated database on admin_url's server (or any server URL) and the CLI on it.
class cluster_db {
 public:
  explicit cluster_db(const std::string& admin_url);
  bool ok() const { return ok_; }
  const std::string& url() const { return db_.url(); }
  const std::string& error() const { return error_; }

  // `keygate <args> --config <cli config>`; the CLI config has the store and, when redis_url is
  // given, the same cache.redis section as the nodes (so a CLI mutation can propagate).
  run_result cli(std::vector<std::string> args, const std::string& redis_url = "",
                 const std::string& ns = "") const;
  bool tenant(const std::string& id) const;
  bool user(const std::string& tenant, const std::string& id, const std::string& role) const;
  bool exec(const std::string& statement) const;  // ADD_FAILUREs on error
  std::optional<std::string> scalar(const std::string& query) const;

 private:
  test::temp_database db_;
  temp_dir dir_;
  std::string error_;
  bool ok_ = false;
};

// ---------------------------------------------------------------------------------------------
struct node_options {
  std::string pg_url;
  std::string redis_url;  // empty: no cache.redis
  std::string ns;
  std::string upstream_url;
  std::string local_ttl = "30s";
  std::string positive_ttl = "60s";
  std::string negative_ttl = "30s";
  std::string redis_timeout = "250ms";
  std::string query_timeout = "1s";
  std::string name = "node";
  // store.postgres.listen_notify. Off here (the product default is on): the internal-API suites
  // revoke with SQL behind keygate's back to observe what an API call does; the change-feed suite
  // (internal_notify_itest.cpp) turns it on.
  bool listen_notify = false;
};

// Renders the full keygate.yaml for a node.
std::string render_config(const node_options& o, unsigned short public_port, unsigned short internal_port);

class node {
 public:
  explicit node(node_options o, millis start_timeout = 15s);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  bool started() const { return started_; }
  unsigned short port() const { return public_port_; }
  unsigned short internal_port() const { return internal_port_; }
  const node_options& options() const { return o_; }
  std::string log() const;
  bool wait_for_log(const std::string& needle, millis timeout, std::size_t from = 0) const;
  void stop();

  // A request on the internal listener (fresh connection).
  response api(const std::string& method, const std::string& target, const header_list& headers = {},
               const std::string& body = {}) const;
  // POST /cache/invalidate with the service token (or the given headers).
  response invalidate(const nlohmann::json& body) const;
  response invalidate_as(const header_list& auth, const std::string& body) const;
  // POST /v1/keys {tenant_id, user_id, name, extra...} with the service token; ADD_FAILURE unless 201.
  created_key create_key(const std::string& tenant, const std::string& user,
                         nlohmann::json extra = nlohmann::json::object()) const;
  // POST /v1/sessions {user_id, ttl_seconds} with the service token; ADD_FAILURE unless 201.
  created_key create_session(const std::string& user, int ttl_seconds = 3600) const;
  // GET /probe on the public listener with the key as bearer: the status (0: no response).
  int probe(const std::string& secret) const;
  int probe_with(const header_list& credential) const;  // e.g. cookie(session secret)

 private:
  bool start_once(millis timeout);
  node_options o_;
  temp_dir dir_;
  std::string config_path_, log_path_;
  unsigned short public_port_ = 0, internal_port_ = 0;
  std::unique_ptr<child_process> proc_;
  bool started_ = false;
};

// A keep-alive client on a node's public listener that reconnects when needed.
class prober {
 public:
  explicit prober(unsigned short port) : port_(port) {}
  int status(const std::string& secret);           // the key as bearer
  int status_with(const header_list& credential);  // e.g. cookie(session secret)

 private:
  unsigned short port_;
  std::optional<http_client> c_;
};

// Polls node.probe(secret) every 10 ms until it returns `want`; true if it did within timeout.
bool probe_until(const node& n, const std::string& secret, int want, millis timeout);

// ---------------------------------------------------------------------------------------------
// A gtest fixture: one migrated database per suite, the shared upstream, and
//   tenant acme:   olga owner, alice admin, mia member, max member, bob viewer
//   tenant globex: gina admin, gus member
// Tests skip when KEYGATE_TEST_PG_URL or KEYGATE_TEST_REDIS_URL is unset.
class cluster_suite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static const cluster_db& db() { return *db_; }
  static std::string redis_url();
  static const recording_upstream& upstream() { return *up_; }
  // Options for a node of this test: shared database + Redis, this test's namespace.
  node_options options(const std::string& name = "node") const;
  // The same on a Redis of the test's own (one it may kill or inspect).
  node_options options(const std::string& name, const private_redis& redis) const;
  const std::string& ns() const { return ns_; }

  static std::unique_ptr<cluster_db> db_;
  static std::unique_ptr<recording_upstream> up_;
  std::string ns_;
};

// Percentile (0..100) of samples (nearest rank); 0 when empty.
double percentile(std::vector<double> v, double p);

}  // namespace keygate::itest::kc

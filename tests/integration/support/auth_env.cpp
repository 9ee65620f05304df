#include "integration/support/auth_env.hpp"

#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "keygate/auth/key_format.hpp"

namespace keygate::itest {

long long traffic_calls(const std::map<std::string, long long>& stats) {
  long long n = 0;
  for (const auto& [name, calls] : stats) {
    const auto base = name.substr(0, name.find('|'));
    if (base == "info" || base == "ping" || base == "select" || base == "hello" || base == "client" ||
        base == "command" || base == "config" || base == "subscribe" || base == "psubscribe" ||
        base == "unsubscribe" || base == "punsubscribe" || base == "auth")
      continue;
    n += calls;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
auth_store::auth_store(const std::string& admin_url) : admin_url_(admin_url), db_(admin_url) {
  if (!db_.ok()) {
    error_ = "CREATE DATABASE failed on " + admin_url;
    return;
  }
  cli_config_ =
      dir_.write("cli.yaml", "store:\n  postgres: {url: \"" + db_.url() +
                                 "\", pool_size: 2, query_timeout: 5s}\n"
                                 "auth:\n  key_prefixes: [kg_live, kg_test]\n"
                                 "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
                                 "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n");
  auto m = cli({"migrate"});
  if (m.exit_code != 0) {
    error_ = "keygate migrate failed: " + m.err;
    return;
  }
  ok_ = true;
}

run_result auth_store::cli(std::vector<std::string> args) const {
  args.push_back("--config");
  args.push_back(cli_config_);
  return run_keygate(args);
}

namespace {
std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}
created parse_created(const run_result& r, const std::vector<std::string>& args) {
  if (r.exit_code != 0) {
    ADD_FAILURE() << "keygate " << joined(args) << " → exit " << r.exit_code << ": " << r.err;
    return {};
  }
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("id") || !j.contains("secret")) {
    ADD_FAILURE() << "keygate " << joined(args) << " printed no {id, secret}: " << r.out;
    return {};
  }
  return {j["id"].get<std::string>(), j["secret"].get<std::string>()};
}
}  // namespace

bool auth_store::tenant(const std::string& id, bool api_access) const {
  std::vector<std::string> args{"tenants", "create", "--id",         id,
                                "--name",  id,       "--api-access", api_access ? "true" : "false"};
  auto r = cli(args);
  if (r.exit_code != 0) ADD_FAILURE() << "keygate " << joined(args) << ": " << r.err;
  return r.exit_code == 0;
}

bool auth_store::user(const std::string& tenant, const std::string& id, const std::string& role) const {
  std::vector<std::string> args{"users", "create", "--tenant", tenant, "--id", id, "--role", role};
  auto r = cli(args);
  if (r.exit_code != 0) ADD_FAILURE() << "keygate " << joined(args) << ": " << r.err;
  return r.exit_code == 0;
}

created auth_store::key(const std::string& tenant, const std::string& user,
                        std::vector<std::string> extra) const {
  std::vector<std::string> args{"keys", "create", "--tenant", tenant,  "--user",
                                user,   "--name", "itest",    "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return parse_created(cli(args), args);
}

created auth_store::session(const std::string& user, const std::string& ttl) const {
  std::vector<std::string> args{"sessions", "create", "--user", user, "--ttl", ttl, "--json"};
  return parse_created(cli(args), args);
}

bool auth_store::keys(const std::string& verb, const std::string& key_id) const {
  std::vector<std::string> args{"keys", verb, key_id};
  auto r = cli(args);
  if (r.exit_code != 0) ADD_FAILURE() << "keygate " << joined(args) << ": " << r.err;
  return r.exit_code == 0;
}

created auth_store::rotate(const std::string& key_id, const std::string& grace) const {
  std::vector<std::string> args{"keys", "rotate", key_id, "--grace", grace, "--json"};
  return parse_created(cli(args), args);
}

bool auth_store::sql(const std::string& statement) const {
  pg_session s(url());
  if (!s.exec(statement)) {
    ADD_FAILURE() << "SQL failed: " << statement << ": " << s.error();
    return false;
  }
  return true;
}

std::optional<std::string> auth_store::sql_scalar(const std::string& query) const {
  pg_session s(url());
  auto v = s.scalar(query);
  if (!v) ADD_FAILURE() << "SQL failed: " << query << ": " << s.error();
  return v;
}

std::optional<long long> auth_store::statement_calls(const std::string& needle) const {
  // Read from the admin database (where services.sh created the extension), for our dbid only.
  pg_session s(admin_url_);
  std::string escaped;
  for (char c : needle) {
    if (c == '\'') escaped += '\'';
    if (c == '%' || c == '_' || c == '\\') escaped += '\\';
    escaped += c;
  }
  auto v = s.scalar(
      "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
      "WHERE datname = '" +
      db_.name() + "') AND query LIKE '%" + escaped + "%'");
  if (!v) {
    ADD_FAILURE() << "pg_stat_statements unreadable: " << s.error();
    return std::nullopt;
  }
  return std::atoll(v->c_str());
}

// ---------------------------------------------------------------------------------------------
std::unique_ptr<auth_store> auth_db_suite::store_;

void auth_db_suite::SetUpTestSuite() {
  const auto admin = test::test_pg_url();
  if (!admin) return;
  store_ = std::make_unique<auth_store>(*admin);
  if (!store_->ok()) return;
  const bool seeded = store_->tenant("acme", true) && store_->tenant("noapi", true) &&
                      store_->user("acme", "alice", "admin") && store_->user("acme", "bob", "viewer") &&
                      store_->user("acme", "mia", "member") && store_->user("noapi", "carol", "owner");
  if (!seeded) store_.reset();
}

void auth_db_suite::TearDownTestSuite() {
  store_.reset();
}

void auth_db_suite::SetUp() {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  ASSERT_TRUE(store_ && store_->ok())
      << "suite database setup failed" << (store_ ? ": " + store_->setup_error() : "");
}

// ---------------------------------------------------------------------------------------------
gateway_config auth_gateway_config(const recording_upstream& up, const std::string& pg_url) {
  gateway_config cfg;
  cfg.upstream("app", up.url());
  cfg.store_postgres(pg_url, {{"pool_size", "4"}, {"query_timeout", "2s"}});
  cfg.auth("key_prefixes", "[kg_live, kg_test]");
  return cfg;
}

std::string sha256_hex(const std::string& s) {
  return auth::sha256_hex_string(s);
}

std::string redis_key(const std::string& ns, char type, const std::string& secret) {
  return ns + ":" + type + ":" + sha256_hex(secret);
}

header_list bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

std::string unknown_key(const std::string& prefix) {
  return auth::generate_key(prefix);
}

std::string metrics_text(const gateway& gw) {
  return internal_get(gw, "/metrics").body;
}

double metric(const gateway& gw, const std::string& name, const std::map<std::string, std::string>& labels) {
  return metric_sum(metrics_text(gw), name, labels);
}

std::vector<nlohmann::json> access_lines(const gateway& gw) {
  std::vector<nlohmann::json> out;
  std::istringstream in(gw.log());
  std::string line;
  while (std::getline(in, line)) {
    const auto brace = line.find('{');
    if (brace == std::string::npos || line.find("\"type\":\"access\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line.substr(brace), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    // The access logger may wrap the line as {"msg": "<json>"}: unwrap it.
    if (!j.contains("type") && j.contains("msg") && j["msg"].is_string()) {
      auto inner = nlohmann::json::parse(j["msg"].get<std::string>(), nullptr, false);
      if (!inner.is_discarded()) j = inner;
    }
    out.push_back(std::move(j));
  }
  return out;
}

::testing::AssertionResult is_401(const response& r, const char* code) {
  auto base = is_json_error(r, 401, {code});
  if (!base) return base;
  const auto www = r.header("WWW-Authenticate");
  if (!www || *www != "Bearer realm=\"keygate\"")
    return ::testing::AssertionFailure()
           << "expected WWW-Authenticate: Bearer realm=\"keygate\": " << r.describe();
  return ::testing::AssertionSuccess();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace keygate::itest

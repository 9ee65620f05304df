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

// ---------------------------------------------------------------------------------------------
pg_session::pg_session(const std::string& url) {
  c_ = PQconnectdb((url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5").c_str());
  if (PQstatus(c_) != CONNECTION_OK) error_ = PQerrorMessage(c_);
}

pg_session::~pg_session() {
  if (c_) PQfinish(c_);
}

bool pg_session::ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

bool pg_session::exec(const std::string& sql) {
  if (!ok()) return false;
  PGresult* r = PQexec(c_, sql.c_str());
  const auto st = PQresultStatus(r);
  const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!good) error_ = PQresultErrorMessage(r);
  PQclear(r);
  return good;
}

std::optional<std::vector<std::string>> pg_session::column(const std::string& sql) {
  if (!ok()) return std::nullopt;
  PGresult* r = PQexec(c_, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    error_ = PQresultErrorMessage(r);
    PQclear(r);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetisnull(r, i, 0) ? "" : PQgetvalue(r, i, 0));
  PQclear(r);
  return out;
}

std::optional<std::string> pg_session::scalar(const std::string& sql) {
  auto col = column(sql);
  if (!col) return std::nullopt;
  return col->empty() ? std::string() : col->front();
}

// ---------------------------------------------------------------------------------------------
resp_client::resp_client(unsigned short port, millis timeout) : timeout_(timeout) {
  c_ = conn::try_connect(port, nullptr, timeout);
}

bool resp_client::read_line(std::string& line) {
  while (true) {
    const auto nl = buf_.find("\r\n");
    if (nl != std::string::npos) {
      line = buf_.substr(0, nl);
      buf_.erase(0, nl + 2);
      return true;
    }
    if (c_.read_some(buf_, timeout_) != io_status::data) return false;
  }
}

bool resp_client::read_reply(resp_reply& out) {
  std::string line;
  if (!read_line(line) || line.empty()) return false;
  const char t = line[0];
  const std::string rest = line.substr(1);
  switch (t) {
    case '+':
      out.type = resp_reply::kind::status;
      out.str = rest;
      return true;
    case '-':
      out.type = resp_reply::kind::error;
      out.str = rest;
      return true;
    case ':':
      out.type = resp_reply::kind::integer;
      out.integer = std::stoll(rest);
      return true;
    case '$': {
      const long long n = std::stoll(rest);
      if (n < 0) {
        out.type = resp_reply::kind::nil;
        return true;
      }
      while (buf_.size() < static_cast<std::size_t>(n) + 2)
        if (c_.read_some(buf_, timeout_) != io_status::data) return false;
      out.type = resp_reply::kind::string;
      out.str = buf_.substr(0, static_cast<std::size_t>(n));
      buf_.erase(0, static_cast<std::size_t>(n) + 2);
      return true;
    }
    case '*': {
      const long long n = std::stoll(rest);
      if (n < 0) {
        out.type = resp_reply::kind::nil;
        return true;
      }
      out.type = resp_reply::kind::array;
      for (long long i = 0; i < n; ++i) {
        resp_reply e;
        if (!read_reply(e)) return false;
        out.elements.push_back(std::move(e));
      }
      return true;
    }
    default:
      return false;
  }
}

resp_reply resp_client::command(const std::vector<std::string>& argv) {
  resp_reply r;
  if (!c_.valid()) {
    r.str = "not connected";
    return r;
  }
  std::string wire = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv) wire += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  if (!c_.send_all(wire, timeout_)) {
    r.str = "send failed";
    return r;
  }
  if (!read_reply(r)) {
    r = resp_reply{};
    r.str = "no reply";
  }
  return r;
}

std::optional<std::string> resp_client::get(const std::string& key) {
  auto r = command({"GET", key});
  if (r.type != resp_reply::kind::string) return std::nullopt;
  return r.str;
}

std::optional<long long> resp_client::pttl(const std::string& key) {
  auto r = command({"PTTL", key});
  if (r.type != resp_reply::kind::integer) return std::nullopt;
  return r.integer;
}

std::map<std::string, long long> resp_client::commandstats() {
  std::map<std::string, long long> out;
  auto r = command({"INFO", "commandstats"});
  if (r.type != resp_reply::kind::string) return out;
  std::istringstream in(r.str);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cmdstat_", 0) != 0) continue;
    const auto colon = line.find(':');
    const auto calls = line.find("calls=");
    if (colon == std::string::npos || calls == std::string::npos) continue;
    out[line.substr(8, colon - 8)] = std::atoll(line.c_str() + calls + 6);
  }
  return out;
}

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
private_redis::private_redis() {
  char tmpl[] = "/tmp/kg-redis.XXXXXX";
  if (!::mkdtemp(tmpl)) return;
  dir_ = tmpl;
  const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
  if (std::system(("bash " + script + " start " + dir_ + "/svc redis >/dev/null 2>&1").c_str()) != 0) return;
  std::ifstream envf(dir_ + "/svc/env");
  std::string line;
  while (std::getline(envf, line)) {
    if (line.rfind("export KEYGATE_TEST_REDIS_PORT=", 0) == 0) port_ = static_cast<unsigned short>(std::stoi(line.substr(31)));
    if (line.rfind("export KEYGATE_TEST_REDIS_PID=", 0) == 0) pid_ = std::stoi(line.substr(30));
  }
  ok_ = port_ != 0 && pid_ > 0;
}

private_redis::~private_redis() {
  if (dir_.empty()) return;
  thaw();
  const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
  (void)std::system(("bash " + script + " stop " + dir_ + "/svc >/dev/null 2>&1; rm -rf " + dir_).c_str());
}

void private_redis::kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    for (int i = 0; i < 100 && ::kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
  }
}

void private_redis::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void private_redis::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

bool private_redis::start_server() {
  const std::string d = dir_ + "/svc/redis";
  const std::string cmd = "redis-server --port " + std::to_string(port_) + " --bind 127.0.0.1 --dir " + d +
                          " --save '' --appendonly no --daemonize yes --pidfile " + d + "/redis.pid --logfile " + d +
                          "/redis.log >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return false;
  for (int i = 0; i < 200; ++i) {
    resp_client c(port_, 200ms);
    if (c.connected() && c.command({"PING"}).str == "PONG") {
      std::ifstream pidf(d + "/redis.pid");
      int pid = -1;
      if (pidf >> pid) pid_ = pid;
      return true;
    }
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

bool private_redis::restart() {
  ::unlink((dir_ + "/svc/redis/redis.pid").c_str());
  return start_server();
}

// ---------------------------------------------------------------------------------------------
auth_store::auth_store(const std::string& admin_url) : admin_url_(admin_url), db_(admin_url) {
  if (!db_.ok()) {
    error_ = "CREATE DATABASE failed on " + admin_url;
    return;
  }
  cli_config_ = dir_.write("cli.yaml", "store:\n  postgres: {url: \"" + db_.url() +
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
  std::vector<std::string> args{"tenants", "create", "--id", id, "--name", id, "--api-access",
                                api_access ? "true" : "false"};
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

created auth_store::key(const std::string& tenant, const std::string& user, std::vector<std::string> extra) const {
  std::vector<std::string> args{"keys", "create", "--tenant", tenant, "--user", user, "--name", "itest", "--json"};
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

void auth_db_suite::TearDownTestSuite() { store_.reset(); }

void auth_db_suite::SetUp() {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  ASSERT_TRUE(store_ && store_->ok()) << "suite database setup failed" << (store_ ? ": " + store_->setup_error() : "");
}

// ---------------------------------------------------------------------------------------------
gateway_config auth_gateway_config(const recording_upstream& up, const std::string& pg_url) {
  gateway_config cfg;
  cfg.upstream("app", up.url());
  cfg.store_postgres(pg_url, {{"pool_size", "4"}, {"query_timeout", "2s"}});
  cfg.auth("key_prefixes", "[kg_live, kg_test]");
  return cfg;
}

std::string unique_namespace() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  std::random_device rd;
  return "kgt:" + name + ":" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
}

std::string sha256_hex(const std::string& s) { return auth::sha256_hex_string(s); }

std::string redis_key(const std::string& ns, char type, const std::string& secret) {
  return ns + ":" + type + ":" + sha256_hex(secret);
}

header_list bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

std::string unknown_key(const std::string& prefix) { return auth::generate_key(prefix); }

std::string metrics_text(const gateway& gw) { return internal_get(gw, "/metrics").body; }

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
    return ::testing::AssertionFailure() << "expected WWW-Authenticate: Bearer realm=\"keygate\": " << r.describe();
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

#include "integration/support/cluster.hpp"

#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "keygate/auth/key_format.hpp"

namespace keygate::itest::kc {

// ---------------------------------------------------------------------------------------------
header_list svc() { return {{"Authorization", std::string("Bearer ") + service_token}}; }
header_list bearer(const std::string& secret) { return {{"Authorization", "Bearer " + secret}}; }
header_list cookie(const std::string& session) { return {{"Cookie", "keygate_session=" + session}}; }
std::string sha256(const std::string& s) { return auth::sha256_hex_string(s); }
std::string fresh_key(const std::string& prefix) { return auth::generate_key(prefix); }

std::string unique_namespace() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  std::random_device rd;
  return "kgi:" + name + ":" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
}

// ---------------------------------------------------------------------------------------------
namespace {
PGconn* pg_connect(const std::string& url, std::string* error) {
  PGconn* c = PQconnectdb((url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5").c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    if (error) *error = PQerrorMessage(c);
    PQfinish(c);
    return nullptr;
  }
  return c;
}
}  // namespace

bool sql(const std::string& url, const std::string& statement, std::string* error) {
  PGconn* c = pg_connect(url, error);
  if (!c) return false;
  PGresult* r = PQexec(c, statement.c_str());
  const auto st = PQresultStatus(r);
  const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!good && error) *error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  return good;
}

std::optional<std::string> sql_scalar(const std::string& url, const std::string& query, std::string* error) {
  PGconn* c = pg_connect(url, error);
  if (!c) return std::nullopt;
  PGresult* r = PQexec(c, query.c_str());
  std::optional<std::string> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    out = (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) ? std::string() : std::string(PQgetvalue(r, 0, 0));
  } else if (error) {
    *error = PQresultErrorMessage(r);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

pg_link::pg_link(const std::string& url) { c_ = pg_connect(url, &error_); }

pg_link::~pg_link() {
  if (c_) PQfinish(static_cast<PGconn*>(c_));
}

bool pg_link::exec(const std::string& statement) {
  if (!c_) return false;
  PGresult* r = PQexec(static_cast<PGconn*>(c_), statement.c_str());
  const auto st = PQresultStatus(r);
  const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!good) error_ = PQresultErrorMessage(r);
  PQclear(r);
  return good;
}

std::optional<std::string> pg_link::scalar(const std::string& query) {
  if (!c_) return std::nullopt;
  PGresult* r = PQexec(static_cast<PGconn*>(c_), query.c_str());
  std::optional<std::string> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK)
    out = (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) ? std::string() : std::string(PQgetvalue(r, 0, 0));
  else
    error_ = PQresultErrorMessage(r);
  PQclear(r);
  return out;
}

std::vector<std::string> pg_link::notifications(const std::string& channel, millis timeout) {
  std::vector<std::string> out;
  if (!c_) return out;
  auto* c = static_cast<PGconn*>(c_);
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (PQconsumeInput(c) != 1) {
      error_ = PQerrorMessage(c);
      return out;
    }
    while (PGnotify* n = PQnotifies(c)) {
      if (channel == n->relname) out.emplace_back(n->extra);
      PQfreemem(n);
    }
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (!out.empty() || left.count() <= 0) return out;
    pollfd p{PQsocket(c), POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(left.count()));
  }
}

// ---------------------------------------------------------------------------------------------
redis_conn::redis_conn(unsigned short port, millis timeout) : timeout_(timeout) {
  c_ = conn::try_connect(port, nullptr, timeout);
}

bool redis_conn::read_line(std::string& line) {
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

bool redis_conn::read_reply(resp& out) {
  std::string line;
  if (!read_line(line) || line.empty()) return false;
  const std::string rest = line.substr(1);
  switch (line[0]) {
    case '+':
      out.type = resp::kind::status;
      out.str = rest;
      return true;
    case '-':
      out.type = resp::kind::error;
      out.str = rest;
      return true;
    case ':':
      out.type = resp::kind::integer;
      out.integer = std::stoll(rest);
      return true;
    case '$': {
      const long long n = std::stoll(rest);
      if (n < 0) {
        out.type = resp::kind::nil;
        return true;
      }
      while (buf_.size() < static_cast<std::size_t>(n) + 2)
        if (c_.read_some(buf_, timeout_) != io_status::data) return false;
      out.type = resp::kind::string;
      out.str = buf_.substr(0, static_cast<std::size_t>(n));
      buf_.erase(0, static_cast<std::size_t>(n) + 2);
      return true;
    }
    case '*': {
      const long long n = std::stoll(rest);
      out.type = n < 0 ? resp::kind::nil : resp::kind::array;
      for (long long i = 0; i < n; ++i) {
        resp e;
        if (!read_reply(e)) return false;
        out.elements.push_back(std::move(e));
      }
      return true;
    }
    default:
      return false;
  }
}

resp redis_conn::command(const std::vector<std::string>& argv) {
  resp r;
  if (!c_.valid()) {
    r.str = "not connected";
    return r;
  }
  std::string wire = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv) wire += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  if (!c_.send_all(wire, timeout_) || !read_reply(r)) {
    r = resp{};
    r.str = "no reply";
  }
  return r;
}

std::optional<std::string> redis_conn::get(const std::string& key) {
  auto r = command({"GET", key});
  if (r.type != resp::kind::string) return std::nullopt;
  return r.str;
}

long long redis_conn::dbsize() {
  auto r = command({"DBSIZE"});
  return r.type == resp::kind::integer ? r.integer : -1;
}

std::map<std::string, std::string> redis_conn::dump(const std::string& ns) {
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    auto r = command({"SCAN", cursor, "MATCH", ns + ":*", "COUNT", "1000"});
    if (r.type != resp::kind::array || r.elements.size() != 2) break;
    cursor = r.elements[0].str;
    for (const auto& k : r.elements[1].elements) out[k.str] = "";
  } while (cursor != "0");
  for (auto& [k, v] : out) v = get(k).value_or("<non-string>");
  return out;
}

unsigned short redis_port(const std::string& url) {
  const auto colon = url.rfind(':');
  return static_cast<unsigned short>(std::atoi(url.c_str() + colon + 1));
}

// ---------------------------------------------------------------------------------------------
own_redis::own_redis() {
  char tmpl[] = "/tmp/kg-iredis.XXXXXX";
  if (!::mkdtemp(tmpl)) return;
  dir_ = tmpl;
  ::chmod(tmpl, 0755);
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

own_redis::~own_redis() {
  if (dir_.empty()) return;
  const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
  (void)std::system(("bash " + script + " stop " + dir_ + "/svc >/dev/null 2>&1; rm -rf " + dir_).c_str());
}

void own_redis::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  for (int i = 0; i < 100 && ::kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
}

// ---------------------------------------------------------------------------------------------
cluster_db::cluster_db(const std::string& admin_url) : db_(admin_url) {
  if (!db_.ok()) {
    error_ = "CREATE DATABASE failed on " + admin_url;
    return;
  }
  auto m = cli({"migrate"});
  if (m.exit_code != 0) {
    error_ = "keygate migrate failed: " + m.err;
    return;
  }
  ok_ = true;
}

run_result cluster_db::cli(std::vector<std::string> args, const std::string& redis_url, const std::string& ns) const {
  std::string yaml = "store:\n  postgres: {url: \"" + db_.url() + "\", pool_size: 2, query_timeout: 5s}\n";
  if (!redis_url.empty())
    yaml += "cache:\n  redis: {url: \"" + redis_url + "\", namespace: \"" + ns + "\", timeout: 500ms}\n";
  yaml += "auth:\n  key_prefixes: [kg_live, kg_test]\n"
          "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
          "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n";
  static int n = 0;
  const auto path = dir_.write("cli-" + std::to_string(++n) + ".yaml", yaml);
  args.push_back("--config");
  args.push_back(path);
  return run_keygate(args);
}

bool cluster_db::tenant(const std::string& id) const {
  auto r = cli({"tenants", "create", "--id", id, "--name", id, "--api-access", "true"});
  if (r.exit_code != 0) ADD_FAILURE() << "tenants create " << id << ": " << r.err;
  return r.exit_code == 0;
}

bool cluster_db::user(const std::string& tenant, const std::string& id, const std::string& role) const {
  auto r = cli({"users", "create", "--tenant", tenant, "--id", id, "--role", role});
  if (r.exit_code != 0) ADD_FAILURE() << "users create " << id << ": " << r.err;
  return r.exit_code == 0;
}

bool cluster_db::exec(const std::string& statement) const {
  std::string err;
  if (!sql(url(), statement, &err)) {
    ADD_FAILURE() << "SQL failed: " << statement << ": " << err;
    return false;
  }
  return true;
}

std::optional<std::string> cluster_db::scalar(const std::string& query) const {
  std::string err;
  auto v = sql_scalar(url(), query, &err);
  if (!v) ADD_FAILURE() << "SQL failed: " << query << ": " << err;
  return v;
}

// ---------------------------------------------------------------------------------------------
std::string render_config(const node_options& o, unsigned short public_port, unsigned short internal_port) {
  std::ostringstream y;
  y << "# generated by tests/integration/support/cluster.cpp (" << o.name << ")\n"
    << "server:\n"
    << "  listen: 127.0.0.1:" << public_port << "\n"
    << "  workers: 1\n"
    << "  limits: {header_timeout: 5s, body_idle_timeout: 5s, idle_timeout: 10s, drain_timeout: 2s, "
       "max_connections: 1000}\n"
    << "internal:\n"
    << "  listen: 127.0.0.1:" << internal_port << "\n"
    << "  service_tokens:\n"
    << "    - {name: itest, sha256: \"" << sha256(service_token) << "\"}\n"
    << "store:\n"
    << "  postgres: {url: \"" << o.pg_url << "\", pool_size: 4, query_timeout: " << o.query_timeout
    << ", listen_notify: " << (o.listen_notify ? "true" : "false") << "}\n"
    << "cache:\n"
    << "  local: {capacity: 10000, ttl: " << o.local_ttl << "}\n";
  if (!o.redis_url.empty())
    y << "  redis: {url: \"" << o.redis_url << "\", namespace: \"" << o.ns << "\", timeout: " << o.redis_timeout
      << "}\n";
  y << "  positive_ttl: " << o.positive_ttl << "\n"
    << "  negative_ttl: " << o.negative_ttl << "\n"
    << "auth:\n"
    << "  key_prefixes: [kg_live, kg_test]\n"
    << "  session_cookie: keygate_session\n"
    << "  last_used_debounce: 1h\n"
    << "upstreams:\n"
    << "  app: {url: \"" << o.upstream_url << "\", connect_timeout: 1s, response_timeout: 5s}\n"
    << "routes:\n"
    << "  - {match: {prefix: /}, upstream: app, auth: required}\n"
    << "log: {level: info, format: json, access_log: false}\n";
  return y.str();
}

node::node(node_options o, millis start_timeout) : o_(std::move(o)) {
  config_path_ = dir_.path() + "/keygate.yaml";
  log_path_ = dir_.path() + "/keygate.log";
  for (int attempt = 0; attempt < 3 && !started_; ++attempt) {
    started_ = start_once(start_timeout);
    if (started_ || log().find("in use") == std::string::npos) break;
  }
  if (!started_)
    ADD_FAILURE() << o_.name << ": keygate serve did not start\n--- config ---\n"
                  << read_file(config_path_) << "--- log ---\n"
                  << log();
}

bool node::start_once(millis timeout) {
  public_port_ = free_port();
  do internal_port_ = free_port();
  while (internal_port_ == public_port_);
  {
    std::ofstream(config_path_) << render_config(o_, public_port_, internal_port_);
  }
  proc_.reset();
  proc_ = std::make_unique<child_process>(
      std::vector<std::string>{keygate_binary(), "serve", "--config", config_path_}, env_map{}, log_path_);
  const auto deadline = steady::now() + timeout;
  bool pub = false, internal = false;
  while (steady::now() < deadline) {
    if (!proc_->running()) return false;
    if (!pub) pub = wait_for_port(public_port_, 50ms);
    if (!internal) internal = wait_for_port(internal_port_, 50ms);
    if (pub && internal) return true;
  }
  return false;
}

node::~node() {
  stop();
  if (started_ && ::testing::Test::HasFailure()) {
    auto text = log();
    if (text.size() > 32 * 1024) text = "[...]\n" + text.substr(text.size() - 32 * 1024);
    std::cerr << "--- " << o_.name << " log (" << log_path_ << ") ---\n" << text << "--- end of " << o_.name << " log ---\n";
  }
}

void node::stop() {
  if (!proc_ || !proc_->running()) return;
  proc_->signal(SIGTERM);
  if (!proc_->wait(5s)) {
    proc_->signal(SIGKILL);
    proc_->wait(5s);
  }
}

std::string node::log() const { return read_file(log_path_); }

bool node::wait_for_log(const std::string& needle, millis timeout, std::size_t from) const {
  const auto deadline = steady::now() + timeout;
  while (true) {
    const auto text = log();
    if (text.size() > from && text.find(needle, from) != std::string::npos) return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

response node::api(const std::string& method, const std::string& target, const header_list& headers,
                   const std::string& body) const {
  http_client c(internal_port_);
  header_list h = headers;
  if (!body.empty()) h.push_back({"Content-Type", "application/json"});
  return c.request(method, target, h, body);
}

response node::invalidate(const nlohmann::json& body) const { return invalidate_as(svc(), body.dump()); }

response node::invalidate_as(const header_list& auth, const std::string& body) const {
  return api("POST", "/cache/invalidate", auth, body);
}

created_key node::create_key(const std::string& tenant, const std::string& user, nlohmann::json extra) const {
  nlohmann::json body = std::move(extra);
  body["tenant_id"] = tenant;
  body["user_id"] = user;
  if (!body.contains("name")) body["name"] = "itest";
  auto r = api("POST", "/v1/keys", svc(), body.dump());
  const auto j = r.json();
  if (r.status() != 201 || !j.is_object() || !j.contains("id") || !j.contains("secret")) {
    ADD_FAILURE() << o_.name << ": POST /v1/keys " << body.dump() << " → " << r.describe();
    return {};
  }
  return {j["id"].get<std::string>(), j["secret"].get<std::string>()};
}

created_key node::create_session(const std::string& user, int ttl_seconds) const {
  const nlohmann::json body{{"user_id", user}, {"ttl_seconds", ttl_seconds}};
  auto r = api("POST", "/v1/sessions", svc(), body.dump());
  const auto j = r.json();
  if (r.status() != 201 || !j.is_object() || !j.contains("id") || !j.contains("secret")) {
    ADD_FAILURE() << o_.name << ": POST /v1/sessions " << body.dump() << " → " << r.describe();
    return {};
  }
  return {j["id"].get<std::string>(), j["secret"].get<std::string>()};
}

int node::probe(const std::string& secret) const { return probe_with(bearer(secret)); }

int node::probe_with(const header_list& credential) const {
  http_client c(public_port_);
  return c.request("GET", "/probe", credential).status();
}

int prober::status(const std::string& secret) { return status_with(bearer(secret)); }

int prober::status_with(const header_list& credential) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!c_) {
      std::string err;
      auto cn = conn::try_connect(port_, &err, 2s);
      if (!cn.valid()) return 0;
      c_.emplace(std::move(cn));
    }
    auto r = c_->request("GET", "/probe", credential, {}, 5s);
    if (r.complete) {
      const auto connection = r.header("Connection");
      if (connection && lower(*connection) == "close") c_.reset();
      return r.status();
    }
    c_.reset();
  }
  return 0;
}

bool probe_until(const node& n, const std::string& secret, int want, millis timeout) {
  prober p(n.port());
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (p.status(secret) == want) return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// ---------------------------------------------------------------------------------------------
std::unique_ptr<cluster_db> cluster_suite::db_;
std::unique_ptr<recording_upstream> cluster_suite::up_;

void cluster_suite::SetUpTestSuite() {
  const auto admin = test::test_pg_url();
  if (!admin || !env("KEYGATE_TEST_REDIS_URL")) return;
  up_ = std::make_unique<recording_upstream>();
  db_ = std::make_unique<cluster_db>(*admin);
  if (!db_->ok()) return;
  const bool seeded = db_->tenant("acme") && db_->tenant("globex") && db_->user("acme", "olga", "owner") &&
                      db_->user("acme", "alice", "admin") && db_->user("acme", "mia", "member") &&
                      db_->user("acme", "max", "member") && db_->user("acme", "bob", "viewer") &&
                      db_->user("globex", "gina", "admin") && db_->user("globex", "gus", "member");
  if (!seeded) db_.reset();
}

void cluster_suite::TearDownTestSuite() {
  db_.reset();
  up_.reset();
}

void cluster_suite::SetUp() {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  if (!env("KEYGATE_TEST_REDIS_URL")) GTEST_SKIP() << "KEYGATE_TEST_REDIS_URL not set";
  ASSERT_TRUE(db_ && db_->ok()) << "suite database setup failed" << (db_ ? ": " + db_->error() : "");
  ns_ = unique_namespace();
}

std::string cluster_suite::redis_url() { return env("KEYGATE_TEST_REDIS_URL").value_or(""); }

node_options cluster_suite::options(const std::string& name) const {
  node_options o;
  o.pg_url = db_->url();
  o.redis_url = redis_url();
  o.ns = ns_;
  o.upstream_url = up_->url();
  o.name = name;
  return o;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace keygate::itest::kc

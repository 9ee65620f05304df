#include "integration/support/store_clients.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace keygate::itest {

// ---------------------------------------------------------------------------------------------
pg_session::pg_session(const std::string& url) {
  c_ = PQconnectdb((url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5").c_str());
  if (PQstatus(c_) != CONNECTION_OK) error_ = PQerrorMessage(c_);
}

pg_session::~pg_session() {
  if (c_) PQfinish(c_);
}

bool pg_session::ok() const {
  return c_ && PQstatus(c_) == CONNECTION_OK;
}

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

std::vector<std::string> pg_session::notifications(const std::string& channel, millis timeout) {
  std::vector<std::string> out;
  if (!ok()) return out;
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (PQconsumeInput(c_) != 1) {
      error_ = PQerrorMessage(c_);
      return out;
    }
    while (PGnotify* n = PQnotifies(c_)) {
      if (channel == n->relname) out.emplace_back(n->extra);
      PQfreemem(n);
    }
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (!out.empty() || left.count() <= 0) return out;
    pollfd p{PQsocket(c_), POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(left.count()));
  }
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

long long resp_client::dbsize() {
  auto r = command({"DBSIZE"});
  return r.type == resp_reply::kind::integer ? r.integer : -1;
}

std::map<std::string, std::string> resp_client::dump(const std::string& ns) {
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    auto r = command({"SCAN", cursor, "MATCH", ns + ":*", "COUNT", "1000"});
    if (r.type != resp_reply::kind::array || r.elements.size() != 2) break;
    cursor = r.elements[0].str;
    for (const auto& k : r.elements[1].elements) out[k.str] = "";
  } while (cursor != "0");
  for (auto& [k, v] : out) v = get(k).value_or("<non-string>");
  return out;
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

unsigned short redis_port(const std::string& url) {
  const auto colon = url.rfind(':');
  return static_cast<unsigned short>(std::atoi(url.c_str() + colon + 1));
}

std::string unique_namespace() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  std::random_device rd;
  return "kgt:" + name + ":" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
}

// ---------------------------------------------------------------------------------------------
private_redis::private_redis() {
  char tmpl[] = "/tmp/kg-redis.XXXXXX";
  if (!::mkdtemp(tmpl)) return;
  dir_ = tmpl;
  ::chmod(tmpl, 0755);
  const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
  if (std::system(("bash " + script + " start " + dir_ + "/svc redis >/dev/null 2>&1").c_str()) != 0) return;
  std::ifstream envf(dir_ + "/svc/env");
  std::string line;
  while (std::getline(envf, line)) {
    if (line.rfind("export KEYGATE_TEST_REDIS_PORT=", 0) == 0)
      port_ = static_cast<unsigned short>(std::stoi(line.substr(31)));
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
                          " --save '' --appendonly no --daemonize yes --pidfile " + d +
                          "/redis.pid --logfile " + d + "/redis.log >/dev/null 2>&1";
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

}  // namespace keygate::itest

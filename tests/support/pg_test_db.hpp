// Integration-test helpers for the Postgres store: a private database per test suite (created
// through $KEYGATE_TEST_PG_URL, dropped at the end) and a private Postgres instance for tests
// that stop or freeze the server (scripts/services.sh start DIR postgres).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "postgres/pg_admin.hpp"

namespace keygate::test {

inline std::optional<std::string> test_pg_url() {
  const char* u = std::getenv("KEYGATE_TEST_PG_URL");
  if (!u || !*u) return std::nullopt;
  return std::string(u);
}

// "postgresql://u@h:p/db" → same server, database `db`.
inline std::string with_database(const std::string& url, const std::string& db) {
  const auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + db;
}

class temp_database {
 public:
  explicit temp_database(const std::string& admin_url) : admin_url_(admin_url) {
    std::random_device rd;
    name_ = "kg_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    ok_ = static_cast<bool>(postgres::execute_admin(admin_url_, "CREATE DATABASE " + name_));
    url_ = with_database(admin_url_, name_);
  }
  ~temp_database() {
    if (ok_) (void)postgres::execute_admin(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  temp_database(const temp_database&) = delete;
  temp_database& operator=(const temp_database&) = delete;
  bool ok() const { return ok_; }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_url_, name_, url_;
  bool ok_ = false;
};

// A Postgres of our own (so SIGSTOP/stop cannot disturb other tests); stopped on destruction.
class private_postgres {
 public:
  private_postgres() {
    char tmpl[] = "/tmp/kg-pg.XXXXXX";
    if (!::mkdtemp(tmpl)) return;
    dir_ = tmpl;
    ::chmod(tmpl, 0755);  // as root, services.sh runs Postgres as the postgres user
    const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
    if (std::system(("bash " + script + " start " + dir_ + "/svc postgres >/dev/null 2>&1").c_str()) != 0)
      return;
    std::ifstream env(dir_ + "/svc/env");
    std::string line;
    while (std::getline(env, line)) {
      const auto eq = line.find('=');
      if (line.rfind("export ", 0) != 0 || eq == std::string::npos) continue;
      vars_[line.substr(7, eq - 7)] = line.substr(eq + 1);
    }
    ok_ = vars_.count("KEYGATE_TEST_PG_URL") && vars_.count("KEYGATE_TEST_PG_PID");
  }
  ~private_postgres() {
    if (dir_.empty()) return;
    const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
    (void)std::system(("bash " + script + " stop " + dir_ + "/svc >/dev/null 2>&1; rm -rf " + dir_).c_str());
  }
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;
  bool ok() const { return ok_; }
  std::string url() const { return vars_.at("KEYGATE_TEST_PG_URL"); }
  int pid() const { return std::stoi(vars_.at("KEYGATE_TEST_PG_PID")); }
  // SIGSTOP/SIGCONT the postmaster and its backends (a frozen server: sockets stay open, no answers).
  void freeze() {
    (void)std::system(
        ("kill -STOP " + std::to_string(pid()) + "; pkill -STOP -P " + std::to_string(pid())).c_str());
  }
  void thaw() {
    (void)std::system(
        ("pkill -CONT -P " + std::to_string(pid()) + "; kill -CONT " + std::to_string(pid())).c_str());
  }
  void stop() {
    const std::string script = std::string(KEYGATE_SOURCE_DIR) + "/scripts/services.sh";
    (void)std::system(("bash " + script + " stop " + dir_ + "/svc >/dev/null 2>&1").c_str());
  }
  // Stops the server but keeps its data directory, so start_server() brings the same databases
  // back on the same port (stop() above removes everything).
  bool stop_server() { return pg_ctl("-m fast -w -t 30 stop") == 0; }
  bool start_server() {
    const std::string sock = dir_ + "/svc/pg";
    const int rc = pg_ctl("-l " + sock + "/server.log -w -t 30 start -o \"-p " +
                          vars_.at("KEYGATE_TEST_PG_PORT") + " -k " + sock +
                          " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                          " -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements"
                          " -c max_connections=200\"");
    if (rc != 0) return false;
    std::ifstream pidf(vars_.at("KEYGATE_TEST_PG_DATA") + "/postmaster.pid");
    std::string pid;
    if (std::getline(pidf, pid)) vars_["KEYGATE_TEST_PG_PID"] = pid;
    return true;
  }
  // A variable of the instance's services.sh env file (KEYGATE_TEST_PG_PORT, ..._DATA, ..._BIN).
  std::string var(const std::string& name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? std::string() : it->second;
  }

 private:
  int pg_ctl(const std::string& args) const {
    const std::string cmd =
        vars_.at("KEYGATE_TEST_PG_BIN") + "/pg_ctl -D " + vars_.at("KEYGATE_TEST_PG_DATA") + " " + args;
    const std::string as_pg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    return std::system((as_pg + cmd + " >/dev/null 2>&1").c_str());
  }
  std::string dir_;
  std::map<std::string, std::string> vars_;
  bool ok_ = false;
};

}  // namespace keygate::test

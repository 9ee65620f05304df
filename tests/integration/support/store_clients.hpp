// Integration-test clients of the stores keygate depends on, shared by the auth-path suites
// (auth_env) and the multi-instance suites (cluster):
//
//   pg_session     a plain libpq connection (SQL the CLI does not offer: LOCK TABLE, UPDATE,
//                  pg_stat_statements counters, LISTEN)
//   resp_client    a tiny blocking RESP client (GET, PTTL, DBSIZE, SCAN, INFO commandstats ...)
//   private_redis  a Redis of our own (scripts/services.sh start DIR redis) that a test may kill,
//                  freeze (SIGSTOP) and restart on the same port without disturbing other tests
//   unique_namespace()  a Redis namespace unique to the running test
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/net.hpp"

struct pg_conn;

namespace keygate::itest {

// ---------------------------------------------------------------------------------------------
// A libpq connection (synchronous). Every call returns nullopt/false on error (see error()).
class pg_session {
 public:
  explicit pg_session(const std::string& url);
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  bool ok() const;
  bool exec(const std::string& sql);
  // First column of the first row ("" for SQL NULL or no row); nullopt on error.
  std::optional<std::string> scalar(const std::string& sql);
  // Every row's first column.
  std::optional<std::vector<std::string>> column(const std::string& sql);
  // Payloads of the notifications received on this connection (after a LISTEN) on `channel`,
  // waiting up to `timeout` for the first one (then taking whatever else arrived with it).
  std::vector<std::string> notifications(const std::string& channel, millis timeout);
  const std::string& error() const { return error_; }

 private:
  pg_conn* c_ = nullptr;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
struct resp_reply {
  enum class kind { nil, string, status, error, integer, array, failed } type = kind::failed;
  std::string str;  // string/status/error text (failed: why)
  long long integer = 0;
  std::vector<resp_reply> elements;
  bool ok() const { return type != kind::failed && type != kind::error; }
};

class resp_client {
 public:
  explicit resp_client(unsigned short port, millis timeout = 2s);
  bool connected() const { return c_.valid(); }
  resp_reply command(const std::vector<std::string>& argv);
  // GET key: the value, or nullopt for nil / error.
  std::optional<std::string> get(const std::string& key);
  // PTTL key in ms (-2 missing, -1 no expiry); nullopt on error.
  std::optional<long long> pttl(const std::string& key);
  long long dbsize();  // -1 on error
  // Every key under "<ns>:" and its value (SCAN; values by GET, "<non-string>" otherwise).
  std::map<std::string, std::string> dump(const std::string& ns);
  // INFO commandstats → command name (lowercase, without cmdstat_) → calls.
  std::map<std::string, long long> commandstats();

 private:
  bool read_reply(resp_reply& out);
  bool read_line(std::string& line);
  conn c_;
  std::string buf_;
  millis timeout_;
};

// Port of a redis://host:port/db URL.
unsigned short redis_port(const std::string& url);

// A Redis namespace unique to the running test.
std::string unique_namespace();

// ---------------------------------------------------------------------------------------------
class private_redis {
 public:
  private_redis();
  ~private_redis();
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  bool ok() const { return ok_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  int pid() const { return pid_; }
  void kill();    // SIGKILL: connections reset, port refuses
  void freeze();  // SIGSTOP: sockets stay open, nothing answers
  void thaw();    // SIGCONT
  // Starts a new redis-server on the same port (after kill()); true once it answers PING.
  bool restart();

 private:
  bool start_server();
  std::string dir_;
  unsigned short port_ = 0;
  int pid_ = -1;
  bool ok_ = false;
};

}  // namespace keygate::itest

// Integration-test support: run the real keygate binary (to completion or in the background),
// temporary directories, free ports, and the services started by scripts/services.sh.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keygate::itest {

using env_map = std::map<std::string, std::string>;

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Path of the keygate binary under test ($KEYGATE_BIN, else the build's own).
std::string keygate_binary();

// Runs keygate with `args` (extra environment on top of ours) and waits; output captured.
run_result run_keygate(const std::vector<std::string>& args, const env_map& env = {},
                       std::chrono::seconds timeout = std::chrono::seconds(60));

// A directory removed (recursively) on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;  // returns path

 private:
  std::string path_;
};

// A background child process (its own process group); killed on destruction.
class child_process {
 public:
  child_process(const std::vector<std::string>& argv, const env_map& env, const std::string& log_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit; nullopt on timeout. The exit status is a code (or 128+signal).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_port();
// Polls until something accepts on 127.0.0.1:port; false after `timeout`.
bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout);

// $NAME or nullopt.
std::optional<std::string> env(const char* name);
std::string read_file(const std::string& path);

}  // namespace keygate::itest

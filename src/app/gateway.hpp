// keygate::app::gateway — the composition root of `keygate serve`: builds the runtime from the
// config, starts the public workers and the internal listener, and handles signals
// (SIGTERM/SIGINT: graceful drain; SIGHUP: reload routes/upstreams/limits).
#pragma once

#include <memory>
#include <string>

#include "keygate/config/config.hpp"

namespace keygate::app {

class gateway {
 public:
  gateway(std::string config_path, config::config cfg);
  ~gateway();
  // Blocks until a shutdown signal has been handled; returns the process exit code.
  // Throws std::runtime_error for start-up failures (bind, TLS files).
  int run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace keygate::app

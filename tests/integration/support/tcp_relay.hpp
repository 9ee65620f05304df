// Integration-test support: a TCP relay on 127.0.0.1 in front of another local port, that can
// hold back one kind of client message — e.g. a Redis SUBSCRIBE — to make one connection of a
// client slower than its others, deterministically.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/net.hpp"

namespace keygate::itest {

class tcp_relay {
 public:
  // Relays port() <-> 127.0.0.1:target. The first client bytes of a connection that contain
  // `hold_marker` are forwarded only after `hold` (each connection's first such read only).
  tcp_relay(unsigned short target, std::string hold_marker, millis hold);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  unsigned short port() const { return listener_.port(); }

 private:
  void accept_loop();
  void pump(conn client);

  unsigned short target_;
  std::string hold_marker_;
  millis hold_;
  listener listener_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace keygate::itest

#include "integration/support/tcp_relay.hpp"

#include <poll.h>

namespace keygate::itest {

tcp_relay::tcp_relay(unsigned short target, std::string hold_marker, millis hold)
    : target_(target),
      hold_marker_(std::move(hold_marker)),
      hold_(hold),
      acceptor_([this] { accept_loop(); }) {}

tcp_relay::~tcp_relay() {
  stopping_ = true;
  acceptor_.join();
  std::lock_guard lock(mutex_);
  for (auto& t : pumps_) t.join();
}

void tcp_relay::accept_loop() {
  while (!stopping_) {
    conn client = listener_.accept(50ms);
    if (!client.valid()) continue;
    std::lock_guard lock(mutex_);
    pumps_.emplace_back([this, c = std::move(client)]() mutable { pump(std::move(c)); });
  }
}

// Copies bytes both ways until either side closes or the relay stops (polled every 50 ms).
void tcp_relay::pump(conn client) {
  std::string error;
  conn server = conn::try_connect(target_, &error);
  if (!server.valid()) return;
  bool held = false;
  while (!stopping_) {
    pollfd fds[2] = {{client.fd(), POLLIN, 0}, {server.fd(), POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    std::string bytes;
    if (fds[0].revents) {
      if (client.read_some(bytes, 0ms) != io_status::data) return;
      if (!held && bytes.find(hold_marker_) != std::string::npos) {
        held = true;
        std::this_thread::sleep_for(hold_);
      }
      if (!server.send_all(bytes)) return;
    }
    if (fds[1].revents) {
      bytes.clear();
      if (server.read_some(bytes, 0ms) != io_status::data) return;
      if (!client.send_all(bytes)) return;
    }
  }
}

}  // namespace keygate::itest

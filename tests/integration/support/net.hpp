// Integration-test support: a blocking TCP (optionally TLS) connection with per-call deadlines.
// Plain POSIX sockets + OpenSSL; used by the raw test clients and by the recording upstream.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace keygate::itest {

using namespace std::chrono_literals;
using millis = std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// What a read ended with.
enum class io_status {
  data,     // at least one byte appended
  closed,   // orderly EOF (FIN, or TLS close_notify)
  reset,    // ECONNRESET / other socket error
  timeout,  // nothing arrived before the deadline
};
const char* to_string(io_status s);

// Client-side TLS settings.
struct tls_client_options {
  std::string ca_file;      // trust anchor (PEM); empty = no verification
  std::string server_name;  // SNI (omitted for IP literals)
};

// An owned, connected socket. Not copyable; movable.
class conn {
 public:
  conn() = default;
  explicit conn(int fd);  // adopts an accepted/connected fd
  ~conn();
  conn(conn&& o) noexcept;
  conn& operator=(conn&& o) noexcept;
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;

  // Connects to 127.0.0.1:port; throws std::runtime_error (with errno text) on failure.
  static conn connect(unsigned short port, millis timeout = 5s);
  // Like connect(), but returns an invalid conn (and sets *error) instead of throwing.
  static conn try_connect(unsigned short port, std::string* error = nullptr, millis timeout = 5s);
  // TLS client handshake on top of connect(); throws on handshake/verification failure.
  static conn connect_tls(unsigned short port, const tls_client_options& opts, millis timeout = 5s);
  // Server-side TLS handshake on an accepted socket (ctx from make_server_tls_context).
  bool accept_tls(ssl_ctx_st* ctx, millis timeout = 5s);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool is_tls() const { return ssl_ != nullptr; }

  // Writes everything; false on any error (peer reset, closed, deadline).
  bool send_all(std::string_view bytes, millis timeout = 10s);
  // Appends what is available (up to max) to `out`, waiting at most `timeout` for the first byte.
  io_status read_some(std::string& out, millis timeout, std::size_t max = 64 * 1024);
  // Reads until EOF/reset/deadline, appending to `out`; returns how it ended.
  io_status read_until_close(std::string& out, millis timeout);

  void shutdown_write();  // half-close (FIN)
  // Sends `bytes` and the FIN in one TCP segment (plain TCP, corked until the half-close), so
  // the peer reads the data and the end of stream together. False on a send error.
  bool send_with_fin(std::string_view bytes);
  void close();                // orderly close
  void abort();                // SO_LINGER 0 + close: sends RST
  void shutdown_both() const;  // wakes a thread blocked on this socket (used by servers at stop)
  void set_recv_buffer(int bytes) const;

 private:
  void reset_state();
  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  ssl_ctx_st* client_ctx_ = nullptr;  // owned for client TLS connections
};

// A listening socket on 127.0.0.1 (port 0 = any); accept() with a deadline.
class listener {
 public:
  explicit listener(unsigned short port = 0, int backlog = 128);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  unsigned short port() const { return port_; }
  // Invalid conn on timeout or after close().
  conn accept(millis timeout);
  void close();

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

// SSL_CTX for a TLS server with the given PEM cert/key (throws on error). Caller frees with
// free_tls_context.
ssl_ctx_st* make_server_tls_context(const std::string& cert_file, const std::string& key_file);
void free_tls_context(ssl_ctx_st* ctx);

// Milliseconds elapsed since `start`, as a double in seconds.
inline double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

}  // namespace keygate::itest

#include "integration/support/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace keygate::itest {

namespace {

// Writes to a socket whose peer is gone must fail with EPIPE, not kill the test binary.
[[maybe_unused]] const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<millis>(deadline - steady::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd; true when ready, false on deadline.
bool wait_fd(int fd, short events, steady::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

std::string ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

sockaddr_in loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

const char* to_string(io_status s) {
  switch (s) {
    case io_status::data:
      return "data";
    case io_status::closed:
      return "closed";
    case io_status::reset:
      return "reset";
    case io_status::timeout:
      return "timeout";
  }
  return "?";
}

conn::conn(int fd) : fd_(fd) {
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

conn::~conn() {
  close();
}

conn::conn(conn&& o) noexcept : fd_(o.fd_), ssl_(o.ssl_), client_ctx_(o.client_ctx_) {
  o.reset_state();
}

conn& conn::operator=(conn&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    ssl_ = o.ssl_;
    client_ctx_ = o.client_ctx_;
    o.reset_state();
  }
  return *this;
}

void conn::reset_state() {
  fd_ = -1;
  ssl_ = nullptr;
  client_ctx_ = nullptr;
}

conn conn::try_connect(unsigned short port, std::string* error, millis timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return {};
  }
  auto a = loopback(port);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (rc != 0 && errno == EINPROGRESS) {
    if (!wait_fd(fd, POLLOUT, steady::now() + timeout)) {
      ::close(fd);
      if (error) *error = "connect timeout";
      return {};
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    if (error) *error = std::strerror(errno);
    ::close(fd);
    return {};
  }
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return conn(fd);
}

conn conn::connect(unsigned short port, millis timeout) {
  std::string error;
  conn c = try_connect(port, &error, timeout);
  if (!c.valid()) throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + error);
  return c;
}

conn conn::connect_tls(unsigned short port, const tls_client_options& opts, millis timeout) {
  conn c = connect(port, timeout);
  c.client_ctx_ = SSL_CTX_new(TLS_client_method());
  if (!c.client_ctx_) throw std::runtime_error("SSL_CTX_new: " + ssl_errors());
  if (!opts.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c.client_ctx_, opts.ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("load CA " + opts.ca_file + ": " + ssl_errors());
    SSL_CTX_set_verify(c.client_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  c.ssl_ = SSL_new(c.client_ctx_);
  SSL_set_fd(c.ssl_, c.fd_);
  if (!opts.server_name.empty()) SSL_set_tlsext_host_name(c.ssl_, opts.server_name.c_str());
  if (!opts.ca_file.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl_);
    X509_VERIFY_PARAM_set1_ip_asc(param, "127.0.0.1");
  }
  const auto deadline = steady::now() + timeout;
  timeval tv{};
  tv.tv_sec = remaining_ms(deadline) / 1000;
  tv.tv_usec = (remaining_ms(deadline) % 1000) * 1000;
  ::setsockopt(c.fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (SSL_connect(c.ssl_) != 1) throw std::runtime_error("TLS handshake: " + ssl_errors());
  timeval zero{};
  ::setsockopt(c.fd_, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof zero);
  return c;
}

bool conn::accept_tls(ssl_ctx_st* ctx, millis timeout) {
  ssl_ = SSL_new(ctx);
  SSL_set_fd(ssl_, fd_);
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const bool ok = SSL_accept(ssl_) == 1;
  ERR_clear_error();
  timeval zero{};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof zero);
  return ok;
}

bool conn::send_all(std::string_view bytes, millis timeout) {
  if (fd_ < 0) return false;
  const auto deadline = steady::now() + timeout;
  while (!bytes.empty()) {
    if (!wait_fd(fd_, POLLOUT, deadline)) return false;
    long n = 0;
    if (ssl_) {
      const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20));
      n = SSL_write(ssl_, bytes.data(), chunk);
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return false;
      }
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

io_status conn::read_some(std::string& out, millis timeout, std::size_t max) {
  if (fd_ < 0) return io_status::closed;
  const auto deadline = steady::now() + timeout;
  char buf[64 * 1024];
  const std::size_t want = std::min(max, sizeof buf);
  while (true) {
    if (!(ssl_ && SSL_pending(ssl_) > 0) && !wait_fd(fd_, POLLIN, deadline)) return io_status::timeout;
    if (ssl_) {
      const int n = SSL_read(ssl_, buf, static_cast<int>(want));
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        return io_status::data;
      }
      const int err = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (remaining_ms(deadline) == 0) return io_status::timeout;
        continue;
      }
      if (err == SSL_ERROR_ZERO_RETURN) return io_status::closed;
      if (err == SSL_ERROR_SYSCALL && errno == 0) return io_status::closed;  // EOF without close_notify
      return io_status::reset;
    }
    const long n = ::recv(fd_, buf, want, MSG_DONTWAIT);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      return io_status::data;
    }
    if (n == 0) return io_status::closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (remaining_ms(deadline) == 0) return io_status::timeout;
      continue;
    }
    return io_status::reset;
  }
}

io_status conn::read_until_close(std::string& out, millis timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    const auto left = millis(remaining_ms(deadline));
    const auto s = read_some(out, left);
    if (s != io_status::data) return s;
  }
}

void conn::shutdown_write() {
  if (fd_ < 0) return;
  if (ssl_) SSL_shutdown(ssl_);
  ::shutdown(fd_, SHUT_WR);
}

bool conn::send_with_fin(std::string_view bytes) {
  if (fd_ < 0 || ssl_) return false;
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  // The FIN rides on the segment still held back by the cork (the kernel tacks it on to an
  // unsent segment) — as long as the bytes fit one segment (loopback MSS is ~64 KiB).
  const bool sent = send_all(bytes);
  ::shutdown(fd_, SHUT_WR);
  return sent;
}

void conn::close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (client_ctx_) {
    SSL_CTX_free(client_ctx_);
    client_ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void conn::abort() {
  if (fd_ >= 0) {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close();
}

void conn::shutdown_both() const {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void conn::set_recv_buffer(int bytes) const {
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

listener::listener(unsigned short port, int backlog) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(port);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, backlog) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("listen on 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

listener::~listener() {
  close();
}

conn listener::accept(millis timeout) {
  if (fd_ < 0) return {};
  if (!wait_fd(fd_, POLLIN, steady::now() + timeout)) return {};
  const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return {};
  return conn(fd);
}

void listener::close() {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
}

ssl_ctx_st* make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + ssl_errors());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const auto why = ssl_errors();
    SSL_CTX_free(ctx);
    throw std::runtime_error("TLS server cert/key: " + why);
  }
  return ctx;
}

void free_tls_context(ssl_ctx_st* ctx) {
  SSL_CTX_free(ctx);
}

}  // namespace keygate::itest

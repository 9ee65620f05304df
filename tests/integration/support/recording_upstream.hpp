// Integration-test support: an in-process HTTP/1.1 upstream (optionally TLS) that records every
// request it receives and answers with a per-test handler. Blocking sockets, one thread per
// connection. Bodies are counted and hashed as they stream in; only the first
// `body_store_limit` bytes are kept, so 50 MiB uploads cost no memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/http_wire.hpp"
#include "integration/support/net.hpp"

namespace keygate::itest {

struct recorded_request {
  message_head head;  // method, target, version, headers in arrival order with original case
  std::string body;   // the first body_store_limit bytes
  std::uint64_t body_bytes = 0;
  std::uint64_t body_hash = fnv1a{}.h;  // FNV-1a over the whole body
  bool body_was_chunked = false;
  std::size_t connection = 0;  // 0-based index of the accepted connection it came on
  std::size_t sequence = 0;    // 0-based position among the requests of that connection

  const std::string& method() const { return head.method; }
  const std::string& target() const { return head.target; }
  std::optional<std::string> header(std::string_view name) const { return head.get(name); }
  std::vector<std::string> headers(std::string_view name) const { return head.get_all(name); }
  bool has(std::string_view name) const { return head.has(name); }
};

class recording_upstream;

// What a handler sees and uses to answer one request.
class upstream_exchange {
 public:
  upstream_exchange(recording_upstream& up, const recorded_request& req, conn& c, http_reader& r)
      : request(req), connection(c), reader(r), up_(up) {}

  const recorded_request& request;
  conn& connection;
  http_reader& reader;  // for protocols that continue on the connection (WebSocket)

  // A complete response with Content-Length (unless headers carry framing of their own).
  void respond(int status, const header_list& headers = {}, std::string_view body = {});
  bool send(std::string_view raw);
  void close_after() { close_ = true; }  // close the connection once the handler returns
  bool closing() const { return close_; }
  // Sleeps up to d; false (early) when the upstream is being stopped.
  bool sleep(millis d);
  bool stopping() const;
  unsigned short upstream_port() const;

 private:
  recording_upstream& up_;
  bool close_ = false;
};

using upstream_handler = std::function<void(upstream_exchange&)>;

// A latch a test releases step by step (SSE: "send event i only after the client got event i-1").
class step_gate {
 public:
  void release();
  // Waits until released at least n times; false (and counts a timeout) after `timeout`.
  bool wait_for(std::size_t n, millis timeout);
  std::size_t timeouts() const { return timeouts_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t released_ = 0;
  std::atomic<std::size_t> timeouts_{0};
};

namespace handlers {
// 200 application/json: {"method","target","version","headers":[[name,value]...],"body_bytes","body_hash"}.
// keep_alive=false adds "Connection: close" and closes after the response.
upstream_handler echo(bool keep_alive = true);
// Dispatch on the target: /bytes/N (N pattern bytes, Content-Length), /chunked/N (chunked),
// /status/N (that status, JSON body), /sleep/MS/... (sleep, then echo), anything else: echo.
upstream_handler standard();
// N pattern bytes streamed in `piece`-byte writes, with Content-Length or chunked.
upstream_handler fixed_body(std::uint64_t n, bool chunked, std::size_t piece = 256 * 1024);
// Server-Sent Events, chunked: sends events[0], then events[i] once gate->wait_for(i) returns
// (or after `delay` when gate is null), then the last chunk.
upstream_handler sse(std::vector<std::string> events, std::shared_ptr<step_gate> gate, millis delay = 0ms);
// Accepts and reads the request, never answers (until the upstream stops).
upstream_handler blackhole();
// Sends a head declaring `declared` body bytes and `sent` of them, waits `pause`, then RST.
upstream_handler reset_mid_body(std::uint64_t declared, std::size_t sent, millis pause = 300ms);
// Same but ends with an orderly close (FIN) instead of RST.
upstream_handler close_mid_body(std::uint64_t declared, std::size_t sent, millis pause = 300ms);
// Sends raw bytes and closes.
upstream_handler raw(std::string bytes);
// Answers an Upgrade: websocket with 101 and echoes text/binary frames until a close frame.
upstream_handler websocket_echo();
// Sleeps, then delegates.
upstream_handler delayed(millis d, upstream_handler inner);
}  // namespace handlers

struct upstream_options {
  std::string tls_cert_file;  // both set: TLS upstream
  std::string tls_key_file;
  std::size_t body_store_limit = 4 * 1024 * 1024;
  millis body_read_delay = 0ms;  // pause between a request's head and reading its body
};

class recording_upstream {
 public:
  explicit recording_upstream(upstream_handler handler = handlers::standard(), upstream_options opts = {});
  ~recording_upstream();
  recording_upstream(const recording_upstream&) = delete;
  recording_upstream& operator=(const recording_upstream&) = delete;

  unsigned short port() const { return listener_.port(); }
  std::string url() const;  // http(s)://127.0.0.1:PORT
  void set_handler(upstream_handler h);

  std::vector<recorded_request> requests() const;  // complete requests, in arrival order
  std::size_t request_count() const;
  std::size_t connections() const { return accepted_; }    // connections accepted
  std::uint64_t bytes_received() const { return bytes_; }  // raw bytes read, complete or not
  std::size_t heads_received() const { return heads_; }    // request heads parsed (complete or not)
  bool wait_for_requests(std::size_t n, millis timeout) const;
  // Stops accepting, wakes and joins every connection thread (idempotent; the destructor calls it).
  void stop();
  bool stopping() const { return stopping_; }

 private:
  friend class upstream_exchange;
  void accept_loop();
  void serve(conn c, std::size_t index);
  bool sleep_interruptible(millis d);

  upstream_options opts_;
  listener listener_;
  ssl_ctx_st* tls_ = nullptr;
  mutable std::mutex m_;
  mutable std::condition_variable cv_;
  upstream_handler handler_;
  std::vector<recorded_request> requests_;
  std::vector<std::thread> threads_;
  struct live {
    std::mutex m;
    int fd = -1;
  };
  std::vector<std::shared_ptr<live>> live_;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> heads_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
};

}  // namespace keygate::itest

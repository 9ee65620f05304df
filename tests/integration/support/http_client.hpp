// Integration-test support: raw and tiny HTTP/1.1 clients (plain or TLS) for driving keygate.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "integration/support/http_wire.hpp"
#include "integration/support/net.hpp"

namespace keygate::itest {

struct response {
  message_head head;
  std::string body;
  bool complete = false;  // a complete head and the whole body per its framing
  std::string error;      // why not complete
  io_status end = io_status::data;

  int status() const { return head.status; }
  std::optional<std::string> header(std::string_view name) const { return head.get(name); }
  // Body parsed as JSON; a null json (is_discarded) when it is not JSON.
  nlohmann::json json() const;
  // "<status> <headers> <body (first 2 KiB)>" for assertion messages.
  std::string describe() const;
};

// Serialises a request: adds Host (unless headers name one, or host is empty) and a
// Content-Length for a non-empty body (unless headers set Content-Length/Transfer-Encoding).
std::string build_request(std::string_view method, std::string_view target, const header_list& headers = {},
                          std::string_view body = {}, std::string_view host = "127.0.0.1");

class http_client {
 public:
  explicit http_client(unsigned short port, millis connect_timeout = 5s);
  explicit http_client(conn c);
  static http_client tls(unsigned short port, const tls_client_options& opts);
  http_client(http_client&& o) noexcept : conn_(std::move(o.conn_)), reader_(conn_) {
    reader_.buffer() = std::move(o.reader_.buffer());
  }
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  bool send(std::string_view raw);
  // Sends raw in `piece`-byte writes with `delay` between them; false once a write fails.
  bool send_slowly(std::string_view raw, std::size_t piece, millis delay);

  // Sends a request and reads its response (keep-alive friendly).
  response request(std::string_view method, std::string_view target, const header_list& headers = {},
                   std::string_view body = {}, millis timeout = 10s);
  // Reads one response. With on_data, the body is streamed to it instead of stored.
  // Interim 1xx responses are returned as they are (call again for the final one).
  response read_response(std::string_view request_method = "GET", millis timeout = 10s,
                         const std::function<void(std::string_view)>& on_data = nullptr);
  // Waits until the server closes (EOF or RST): true if it did within `timeout`. Bytes that
  // arrive meanwhile are appended to *extra (they also count as "not closed" only if the
  // deadline passes).
  bool wait_closed(millis timeout, std::string* extra = nullptr);

  conn& connection() { return conn_; }
  http_reader& reader() { return reader_; }

 private:
  conn conn_;
  http_reader reader_;
};

// Result of sending raw bytes on a fresh connection and reading every response until close.
struct raw_exchange {
  std::vector<response> responses;  // in order; the last may be incomplete
  bool closed = false;              // server closed (EOF/RST) within the deadline
  std::string trailing;             // bytes after the last complete response
  double close_seconds = 0;         // time from the last write until close
};
// Sends `raw` (in one write, or in `piece`-byte writes `delay` apart), then reads responses until
// the server closes or `timeout` passes. `request_method` is used for every response.
raw_exchange exchange_raw(unsigned short port, std::string_view raw, millis timeout = 5s,
                          std::size_t piece = 0, millis delay = 0ms, std::string_view request_method = "GET");

}  // namespace keygate::itest

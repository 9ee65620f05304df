// keygate::http::session — one client connection on the public listener, from accept to close.
//
// The request walks one straight line (DESIGN "Shape of the program"):
//   read head (limits, deadline) → strict parse → route → auth phase → forward (stream body
//   both ways) → log; repeated per request on a keep-alive connection.
//
// Deadlines: the session keeps one deadline; its worker's sweeper cancels the session's socket
// operations once it has passed (`check_deadline`), and the session turns the cancellation into
// the response the phase calls for (close, 504, ...). Setting a deadline is an assignment, so a
// request costs no timer system calls.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "keygate/core/cidr.hpp"
#include "keygate/core/coarse_clock.hpp"
#include "keygate/http/byte_stream.hpp"
#include "keygate/http/head_parser.hpp"
#include "keygate/http/io_buffer.hpp"
#include "keygate/proxy/auth_phase.hpp"

namespace keygate::proxy {
struct runtime;
struct upstream_target;
}  // namespace keygate::proxy

namespace keygate::http {

class worker;
using steady = std::chrono::steady_clock;

class session : public std::enable_shared_from_this<session> {
 public:
  session(worker& w, tcp::socket socket);
  ~session();
  asio::awaitable<void> run();

  // Called by the worker's sweeper / drain on the worker's thread.
  void check_deadline(steady::time_point now) noexcept;
  void close_if_idle() noexcept;

  session* prev_ = nullptr;  // worker's intrusive list
  session* next_ = nullptr;

 private:
  struct outcome {
    bool keep_alive = false;
    unsigned status = 0;
  };

  asio::awaitable<outcome> handle(const request_head& req);
  proxy::request_context make_request_context(const request_head& req, const config::route& route,
                                              const config::config& cfg, std::string_view request_id);
  asio::awaitable<outcome> respond_error(errc e, std::string_view request_id, bool close);
  asio::awaitable<void> reject_head(const parse_error& e);
  asio::awaitable<outcome> forward(const request_head& req, const proxy::runtime& rt,
                                   const config::route& route, proxy::request_context& ctx);
  // errc::internal: the client went away (nothing to answer).
  asio::awaitable<errc> send_request_body(const request_head& req, std::uint64_t max_body,
                                          std::uint64_t already_sent);
  asio::awaitable<outcome> relay_response(const request_head& req, proxy::upstream_target& target,
                                          std::unique_ptr<byte_stream>& conn, const response_head& res);
  asio::awaitable<void> tunnel(byte_stream& upstream);
  asio::awaitable<void> pump(byte_stream& from, byte_stream& to, io_buffer& buf);

  // Deadlines are checked by a 100 ms sweeper: the coarse clock is precise enough.
  void set_deadline(std::chrono::milliseconds d) noexcept {
    deadline_ = core::coarse_now() + d;
    timed_out_ = false;
  }

  worker& worker_;
  byte_stream client_;
  byte_stream* upstream_ = nullptr;     // current upstream connection, for deadline cancellation
  io_buffer in_;                        // client → keygate (held only while bytes are buffered)
  std::array<char, 4096> first_bytes_;  // the read that waits for a head's first bytes
  io_buffer up_in_;                     // upstream → keygate
  // Per-request state kept across requests so a keep-alive connection reuses its capacity.
  std::string head_copy_;           // the current request head (parsed views point here)
  std::string response_head_copy_;  // the current response head (likewise)
  request_head req_;                // parsed from head_copy_
  response_head res_;               // parsed from response_head_copy_
  std::string request_id_;          // the current request's X-Request-Id
  std::string traceparent_;         // the current request's traceparent
  std::string upstream_head_;       // the head sent upstream
  std::string identity_;            // the identity header lines of the current request
  std::string out_;                 // scratch for heads and re-chunked bodies
  steady::time_point deadline_ = steady::time_point::max();
  bool timed_out_ = false;
  bool idle_ = true;  // waiting for the next request: may be closed by a drain
  std::string client_ip_;
  bool client_trusted_ = false;
};

}  // namespace keygate::http

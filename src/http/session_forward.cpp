// Forwarding one request upstream and streaming the response back (the "forward" and "rewrite
// response" phases of a session), and the WebSocket tunnel after a 101.
//
// Contracts:
//  * bodies are streamed in pieces through fixed buffers, never held whole;
//  * chunked bodies are decoded strictly and re-encoded, so each side sees canonical framing;
//  * an upstream connection goes back to the pool only after a complete, well-framed exchange
//    with nothing left over; any error closes it;
//  * a failure after the response head was sent aborts the client connection (the client sees
//    a truncated message, never a spliced one);
//  * only a bodyless idempotent request is retried, once, and only when a reused pooled
//    connection failed before any response byte arrived.
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "keygate/http/chunked_decoder.hpp"
#include "keygate/http/error_response.hpp"
#include "keygate/http/session.hpp"
#include "keygate/http/worker.hpp"
#include "keygate/proxy/header_policy.hpp"
#include "keygate/proxy/request_id.hpp"
#include "keygate/proxy/router.hpp"
#include "keygate/proxy/runtime.hpp"

namespace keygate::http {
namespace {

// Upstream heads may be larger than client heads (cookies set by the application).
constexpr head_limits upstream_head_limits{16 * 1024, 32 * 1024, 48 * 1024, 256};

bool is_retryable_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

}  // namespace

asio::awaitable<session::outcome> session::forward(const request_head& req, const proxy::runtime& rt,
                                                   const config::route& route, proxy::request_context& ctx) {
  const auto& cfg = *rt.cfg;
  auto& target = *rt.upstreams[route.upstream_index];
  auto& pool = *target.pools[worker_.index()];

  const auto inbound_tp = req.find("traceparent");
  if (proxy::is_valid_traceparent(inbound_tp))
    traceparent_.assign(inbound_tp);
  else
    proxy::assign_new_traceparent(traceparent_);
  const std::string upstream_path = proxy::forwarded_target(route, req.target);
  proxy::forward_context fctx;
  fctx.target = upstream_path;
  fctx.client_ip = client_ip_;
  fctx.client_is_trusted = client_trusted_;
  fctx.scheme = worker_.shared().server_tls ? "https" : "http";
  fctx.request_id = ctx.request_id;
  fctx.traceparent = traceparent_;
  fctx.identity_prefix = cfg.auth.identity_header_prefix;
  fctx.underscores = cfg.server.underscore_headers;
  fctx.hide_authorization = cfg.auth.hide_credentials && route.auth != config::auth_requirement::none;
  fctx.api_key_header = cfg.auth.api_key_header;
  fctx.session_cookie = cfg.auth.session_cookie;
  fctx.identity_lines = ctx.identity;
  std::string& head = upstream_head_;
  head.clear();
  head.reserve(512 + req.head_bytes);
  proxy::append_upstream_request(head, req, fctx);

  const bool retryable = is_retryable_method(req.method) && !req.has_body();
  const bool close_client = !req.keep_alive() || worker_.draining();

  if (req.expect_continue && req.has_body()) {
    set_deadline(cfg.server.limits.body_idle_timeout);
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    if (co_await client_.write(asio::buffer(cont))) co_return outcome{false, 0};
  }

  for (int attempt = 0;; ++attempt) {
    auto conn = pool.take(core::coarse_now());
    const bool reused = conn != nullptr;
    if (!conn) {
      set_deadline(target.cfg.connect_timeout);
      auto connected = co_await connect_upstream(target, upstream_);
      if (!connected) {
        upstream_ = nullptr;
        const errc e = timed_out_ ? errc::upstream_timeout
                       : connected.error() == make_error_code(errc::upstream_timeout)
                           ? errc::upstream_timeout
                           : errc::upstream_unavailable;
        (e == errc::upstream_timeout ? target.timeouts : target.connect_errors)->inc();
        co_return co_await respond_error(e, ctx.request_id, close_client || req.has_body());
      }
      conn = std::move(*connected);
    }
    upstream_ = conn.get();
    const auto sent_at = steady::now();

    // Head, plus the body bytes already buffered when the body is Content-Length framed.
    set_deadline(target.cfg.response_timeout);
    std::size_t inline_body = 0;
    if (req.framing.content_length && !req.framing.chunked)
      inline_body =
          static_cast<std::size_t>(std::min<std::uint64_t>(*req.framing.content_length, in_.size()));
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                                 asio::buffer(in_.data().data(), inline_body)};
    if (auto ec = co_await conn->write(std::span<const asio::const_buffer>(bufs))) {
      conn->close();
      upstream_ = nullptr;
      if (reused && retryable && attempt == 0 && !timed_out_) continue;
      target.connect_errors->inc();
      co_return co_await respond_error(timed_out_ ? errc::upstream_timeout : errc::upstream_unavailable,
                                       ctx.request_id, true);
    }
    in_.consume(inline_body);

    if (req.has_body()) {
      const errc body_error = co_await send_request_body(req, cfg.server.limits.max_body_bytes, inline_body);
      if (body_error != errc::ok) {
        conn->close();
        upstream_ = nullptr;
        if (body_error == errc::internal) co_return outcome{false, 0};  // client went away
        co_return co_await respond_error(body_error, ctx.request_id, true);
      }
    }

    // Response head (skipping interim 1xx responses other than 101).
    response_head& res = res_;
    bool failed_early = false;
    errc failure = errc::ok;
    bool first_read = true;  // the upstream's turn: nothing of its response is here yet
    while (true) {
      set_deadline(target.cfg.response_timeout);
      head_scanner scanner(upstream_head_limits, false);
      parse_state state;
      while ((state = scanner.scan(up_in_.data())) == parse_state::incomplete) {
        const asio::mutable_buffer into = up_in_.prepare();
        // (GCC 12: the awaitable is named, not a temporary of a conditional inside co_await.)
        auto reading = first_read ? conn->read_next_message(into) : conn->read_some(into);
        auto [ec, n] = co_await std::move(reading);
        first_read = false;
        if (ec || n == 0) {
          failed_early = up_in_.empty();
          failure = timed_out_ ? errc::upstream_timeout : errc::upstream_unavailable;
          break;
        }
        up_in_.commit(n);
      }
      if (failure != errc::ok) break;
      if (state == parse_state::failed) {
        failure = errc::upstream_bad_response;
        break;
      }
      response_head_copy_.assign(up_in_.data().substr(0, scanner.head_bytes()));
      up_in_.consume(scanner.head_bytes());
      if (parse_response_head(response_head_copy_, upstream_head_limits, res)) {
        failure = errc::upstream_bad_response;
        break;
      }
      if (res.status >= 100 && res.status < 200 && res.status != 101) continue;
      break;
    }
    if (failure != errc::ok) {
      conn->close();
      upstream_ = nullptr;
      up_in_.consume(up_in_.size());
      if (failure == errc::upstream_unavailable && failed_early && reused && retryable && attempt == 0)
        continue;
      (failure == errc::upstream_timeout        ? target.timeouts
       : failure == errc::upstream_bad_response ? target.bad_responses
                                                : target.connect_errors)
          ->inc();
      if (failure == errc::upstream_bad_response)
        spdlog::warn("upstream {} sent a malformed response", target.cfg.name);
      co_return co_await respond_error(failure, ctx.request_id, true);
    }
    target.latency->observe(std::chrono::duration<double>(steady::now() - sent_at).count());

    if (res.status == 101) {
      if (!req.upgrade_websocket) {
        conn->close();
        upstream_ = nullptr;
        target.bad_responses->inc();
        co_return co_await respond_error(errc::upstream_bad_response, ctx.request_id, true);
      }
      out_.clear();
      proxy::append_client_response(out_, res, ctx.request_id, false, false);
      const std::array<asio::const_buffer, 2> parts{asio::buffer(out_), asio::buffer(up_in_.data())};
      set_deadline(cfg.server.limits.idle_timeout);
      if (!co_await client_.write(std::span<const asio::const_buffer>(parts))) {
        up_in_.consume(up_in_.size());
        co_await tunnel(*conn);
      }
      conn->close();
      upstream_ = nullptr;
      co_return outcome{false, 101};
    }
    co_return co_await relay_response(req, target, conn, res);
  }
}

asio::awaitable<errc> session::send_request_body(const request_head& req, std::uint64_t max_body,
                                                 std::uint64_t already_sent) {
  const auto& limits = worker_.runtime()->cfg->server.limits;
  if (!req.framing.chunked) {
    // Content-Length body: relay exactly the declared bytes (size was checked against the cap).
    std::uint64_t remaining = *req.framing.content_length - already_sent;
    while (remaining > 0) {
      if (in_.empty()) {
        set_deadline(limits.body_idle_timeout);
        auto [ec, n] = co_await client_.read_some(in_.prepare());
        if (ec || n == 0) co_return errc::internal;
        in_.commit(n);
      }
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in_.size()));
      set_deadline(limits.body_idle_timeout);
      if (co_await upstream_->write(asio::buffer(in_.data().data(), n))) co_return errc::upstream_unavailable;
      in_.consume(n);
      remaining -= n;
    }
    co_return errc::ok;
  }
  chunked_decoder decoder;
  std::uint64_t total = 0;
  while (true) {
    out_.clear();
    bool done = false;
    while (true) {
      const auto step = decoder.next(in_.data());
      in_.consume(step.consumed);
      if (step.what == chunked_decoder::status::data) {
        total += step.data.size();
        if (total > max_body) co_return errc::body_too_large;
        append_chunk(out_, step.data);
      } else if (step.what == chunked_decoder::status::done) {
        out_ += "0\r\n\r\n";
        done = true;
        break;
      } else if (step.what == chunked_decoder::status::error) {
        worker_.shared().framing_rejections->with({"invalid_chunk"}).inc();
        co_return errc::bad_request;
      } else if (step.consumed == 0) {
        break;
      }
      if (out_.size() >= 32 * 1024) break;
    }
    if (!out_.empty()) {
      set_deadline(limits.body_idle_timeout);
      if (co_await upstream_->write(asio::buffer(out_))) co_return errc::upstream_unavailable;
    }
    if (done) co_return errc::ok;
    if (!in_.empty() && out_.size() >= 32 * 1024) continue;
    set_deadline(limits.body_idle_timeout);
    auto [ec, n] = co_await client_.read_some(in_.prepare());
    if (ec || n == 0) co_return errc::internal;
    in_.commit(n);
  }
}

}  // namespace keygate::http

// Streaming an upstream response back to the client, and the WebSocket tunnel.
// See session_forward.cpp for the contracts.
#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "keygate/http/chunked_decoder.hpp"
#include "keygate/http/session.hpp"
#include "keygate/http/worker.hpp"
#include "keygate/proxy/header_policy.hpp"
#include "keygate/proxy/runtime.hpp"

namespace keygate::http {
namespace {

enum class body_kind { none, fixed, chunked, until_close };

}  // namespace

asio::awaitable<session::outcome> session::relay_response(const request_head& req,
                                                          proxy::upstream_target& target,
                                                          std::unique_ptr<byte_stream>& conn,
                                                          const response_head& res) {
  const auto& limits = worker_.runtime()->cfg->server.limits;
  const bool no_body = req.method == "HEAD" || res.status == 204 || res.status == 304;
  const body_kind kind = no_body                      ? body_kind::none
                         : res.framing.chunked        ? body_kind::chunked
                         : res.framing.content_length ? body_kind::fixed
                                                      : body_kind::until_close;
  const bool client_http10 = req.version_minor == 0;
  const bool chunked_to_client =
      !client_http10 && (kind == body_kind::chunked || kind == body_kind::until_close);
  const bool close_client = !req.keep_alive() || worker_.draining() ||
                            (client_http10 && (kind == body_kind::chunked || kind == body_kind::until_close));
  bool upstream_reusable =
      kind != body_kind::until_close && res.version_minor == 1 && !res.framing.connection_close;

  out_.clear();
  proxy::append_client_response(out_, res, {}, chunked_to_client, close_client);

  const auto fail_midstream = [&] {
    conn->close();
    upstream_ = nullptr;
    up_in_.consume(up_in_.size());
    client_.close();  // the client sees a truncated message, never a spliced one
    return outcome{false, res.status};
  };
  const auto read_upstream = [&]() -> asio::awaitable<std::size_t> {
    set_deadline(target.cfg.response_timeout);
    auto [ec, n] = co_await conn->read_some(up_in_.prepare());
    if (ec) co_return 0;
    up_in_.commit(n);
    co_return n;
  };

  switch (kind) {
    case body_kind::none: {
      set_deadline(limits.body_idle_timeout);
      if (co_await client_.write(asio::buffer(out_))) co_return fail_midstream();
      break;
    }
    case body_kind::fixed: {
      std::uint64_t remaining = *res.framing.content_length;
      bool head_sent = false;
      while (!head_sent || remaining > 0) {
        if (remaining > 0 && up_in_.empty() && head_sent) {
          if (co_await read_upstream() == 0) co_return fail_midstream();
        }
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, up_in_.size()));
        const std::array<asio::const_buffer, 2> parts{head_sent ? asio::const_buffer() : asio::buffer(out_),
                                                      asio::buffer(up_in_.data().data(), n)};
        set_deadline(limits.body_idle_timeout);
        if (co_await client_.write(std::span<const asio::const_buffer>(parts))) co_return fail_midstream();
        head_sent = true;
        up_in_.consume(n);
        remaining -= n;
      }
      break;
    }
    case body_kind::chunked: {
      chunked_decoder decoder;
      bool done = false;
      while (!done) {
        while (true) {
          const auto step = decoder.next(up_in_.data());
          up_in_.consume(step.consumed);
          if (step.what == chunked_decoder::status::data) {
            if (chunked_to_client)
              append_chunk(out_, step.data);
            else
              out_.append(step.data);
          } else if (step.what == chunked_decoder::status::done) {
            if (chunked_to_client) out_ += "0\r\n\r\n";
            done = true;
            break;
          } else if (step.what == chunked_decoder::status::error) {
            target.bad_responses->inc();
            co_return fail_midstream();
          } else if (step.consumed == 0) {
            break;
          }
        }
        if (!out_.empty()) {
          set_deadline(limits.body_idle_timeout);
          if (co_await client_.write(asio::buffer(out_))) co_return fail_midstream();
          out_.clear();
        }
        if (!done && co_await read_upstream() == 0) co_return fail_midstream();
      }
      break;
    }
    case body_kind::until_close: {
      // Close-delimited upstream body: re-framed as chunked for HTTP/1.1 clients.
      while (true) {
        if (!up_in_.empty()) {
          if (chunked_to_client)
            append_chunk(out_, up_in_.data());
          else
            out_.append(up_in_.data());
          up_in_.consume(up_in_.size());
        }
        if (!out_.empty()) {
          set_deadline(limits.body_idle_timeout);
          if (co_await client_.write(asio::buffer(out_))) co_return fail_midstream();
          out_.clear();
        }
        set_deadline(target.cfg.response_timeout);
        auto [ec, n] = co_await conn->read_some(up_in_.prepare());
        if (ec == asio::error::eof || (ec == asio::ssl::error::stream_truncated)) break;
        if (ec) co_return fail_midstream();
        up_in_.commit(n);
      }
      if (chunked_to_client) {
        set_deadline(limits.body_idle_timeout);
        static constexpr std::string_view last = "0\r\n\r\n";
        if (co_await client_.write(asio::buffer(last))) co_return fail_midstream();
      }
      break;
    }
  }

  // Leftover bytes after a complete response mean the upstream framed it wrongly: never reuse.
  upstream_reusable = upstream_reusable && up_in_.empty();
  upstream_ = nullptr;
  if (upstream_reusable) {
    target.pools[worker_.index()]->put(std::move(conn), core::coarse_now());
  } else {
    conn->close();
    up_in_.consume(up_in_.size());
  }
  up_in_.release_if_empty();
  co_return outcome{!close_client, res.status};
}

asio::awaitable<void> session::pump(byte_stream& from, byte_stream& to, io_buffer& buf) {
  const auto idle = worker_.runtime()->cfg->server.limits.idle_timeout;
  while (true) {
    if (!buf.empty()) {
      set_deadline(idle);
      if (co_await to.write(asio::buffer(buf.data()))) break;
      buf.consume(buf.size());
    }
    set_deadline(idle);
    auto [ec, n] = co_await from.read_some(buf.prepare());
    if (ec || n == 0) break;
    buf.commit(n);
  }
  error_code ignored;
  to.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> session::tunnel(byte_stream& upstream) {
  using namespace asio::experimental::awaitable_operators;
  co_await (pump(client_, upstream, in_) && pump(upstream, client_, up_in_));
}

}  // namespace keygate::http

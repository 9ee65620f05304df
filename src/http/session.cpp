// The connection loop of a public-listener session: TLS handshake, reading and strictly parsing
// each request head, routing, the auth phase, and error responses. Forwarding lives in
// session_forward.cpp.
#include "keygate/http/session.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "keygate/core/text.hpp"
#include "keygate/http/error_response.hpp"
#include "keygate/http/worker.hpp"
#include "keygate/obs/logging.hpp"
#include "keygate/proxy/request_id.hpp"
#include "keygate/proxy/router.hpp"
#include "keygate/proxy/runtime.hpp"

namespace keygate::http {
namespace {

// Client buffer: a whole head must fit (request line + header section) plus room for body bytes.
std::size_t client_buffer_size(const head_limits& l) {
  return std::max<std::size_t>(64 * 1024, l.max_request_line_bytes + l.max_header_bytes + 4096);
}

std::size_t status_class_index(unsigned status) {
  return status >= 100 && status < 600 ? status / 100 - 1 : 4;
}

}  // namespace

session::session(worker& w, tcp::socket socket)
    : worker_(w),
      client_(std::move(socket)),
      in_(client_buffer_size(w.runtime()->request_limits), &w.buffers()),
      up_in_(64 * 1024, &w.buffers()) {
  error_code ec;
  const auto remote = client_.socket().remote_endpoint(ec);
  if (!ec) {
    auto addr = remote.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    client_ip_ = addr.to_string();
    if (const auto parsed = core::ip_address::parse(client_ip_))
      for (const auto& net : w.runtime()->cfg->server.trusted_proxies)
        client_trusted_ = client_trusted_ || net.contains(*parsed);
  }
  worker_.attach(this);
}

session::~session() {
  worker_.detach(this);
}

void session::check_deadline(steady::time_point now) noexcept {
  if (now < deadline_) return;
  // Cancel repeatedly (every sweep) until the session sets a new deadline: an operation started
  // just after a cancellation must not escape it.
  timed_out_ = true;
  client_.cancel();
  if (upstream_) upstream_->cancel();
}

void session::close_if_idle() noexcept {
  if (idle_) client_.cancel();
}

asio::awaitable<void> session::reject_head(const parse_error& e) {
  worker_.shared().framing_rejections->with({std::string(e.reason)}).inc();
  const auto request_id = proxy::new_request_id();
  spdlog::info("rejected request from {}: {} ({})", client_ip_, code_name(e.code), e.reason);
  co_await respond_error(e.code, request_id, true);
}

asio::awaitable<session::outcome> session::respond_error(errc e, std::string_view request_id, bool close) {
  out_.clear();
  const auto& cfg = *worker_.runtime()->cfg;
  append_error_response(out_, e, request_id,
                        {.close = close, .allow = {}, .uniform_credentials = cfg.auth.uniform_errors});
  set_deadline(cfg.server.limits.body_idle_timeout);
  const auto ec = co_await client_.write(asio::buffer(out_));
  co_return outcome{.keep_alive = !close && !ec, .status = describe(e).status};
}

asio::awaitable<void> session::run() {
  auto self = shared_from_this();
  auto& shared = worker_.shared();
  shared.active_connections->add(1);
  const auto rt_at_start = worker_.runtime();
  const auto& limits = rt_at_start->cfg->server.limits;

  if (shared.server_tls) {
    client_.enable_tls(*shared.server_tls);
    set_deadline(limits.header_timeout);
    if (co_await client_.handshake(asio::ssl::stream_base::server)) {
      client_.close();
      shared.active_connections->add(-1);
      co_return;
    }
  }

  bool first = true;
  while (true) {
    const auto rt = worker_.runtime();
    const auto& lim = rt->cfg->server.limits;
    if (worker_.draining() && !first && in_.empty()) break;

    // Wait for the next head: idle timeout until its first byte, header timeout from then on.
    idle_ = in_.empty();
    set_deadline(idle_ ? (first ? lim.header_timeout : lim.idle_timeout) : lim.header_timeout);
    head_scanner scanner(rt->request_limits, true);
    parse_state state;
    bool aborted = false;
    while ((state = scanner.scan(in_.data())) == parse_state::incomplete) {
      // Nothing buffered (typically: idle between requests): wait with the session's small
      // buffer and hand the large one back to the worker's cache, so an idle keep-alive
      // connection holds 4 KiB, not 64 KiB. Costs a copy of the first bytes of each head.
      const bool waiting_for_first_bytes = in_.empty();
      if (waiting_for_first_bytes) in_.release_if_empty();
      const asio::mutable_buffer into = waiting_for_first_bytes ? asio::buffer(first_bytes_) : in_.prepare();
      // (GCC 12: the awaitable is named, not a temporary of a conditional inside co_await.)
      auto reading = waiting_for_first_bytes ? client_.read_next_message(into) : client_.read_some(into);
      auto [ec, n] = co_await std::move(reading);
      if (ec || n == 0) {
        aborted = true;
        break;
      }
      if (waiting_for_first_bytes) std::memcpy(in_.prepare().data(), first_bytes_.data(), n);
      in_.commit(n);
      if (idle_) {
        idle_ = false;
        set_deadline(lim.header_timeout);
      }
    }
    idle_ = false;
    if (aborted) break;  // EOF, reset, idle/header timeout or drain: close without a response
    if (state == parse_state::failed) {
      co_await reject_head(scanner.error());
      break;
    }
    head_copy_.assign(in_.data().substr(0, scanner.head_bytes()));
    in_.consume(scanner.head_bytes());
    request_head& req = req_;
    if (auto e = parse_request_head(head_copy_, rt->request_limits, req)) {
      co_await reject_head(*e);
      break;
    }
    const auto result = co_await handle(req);
    if (!result.keep_alive) break;
    first = false;
  }
  co_await client_.graceful_close();
  shared.active_connections->add(-1);
}

// A plain function, not inline in the coroutine: GCC 12 mishandles braced initializers there.
proxy::request_context session::make_request_context(const request_head& req, const config::route& route,
                                                     const config::config& cfg, std::string_view request_id) {
  identity_.clear();
  return proxy::request_context{
      req, route, cfg, worker_.index(), request_id, client_ip_, identity_, nullptr, {}, {}, {}, {}, false};
}

asio::awaitable<session::outcome> session::handle(const request_head& req) {
  const auto rt = worker_.runtime();  // this request keeps its snapshot even across a reload
  const auto& cfg = *rt->cfg;
  const auto started = cfg.log.access_log ? steady::now() : steady::time_point{};  // for the access log only

  const auto inbound_id = req.find("x-request-id");
  if (proxy::is_valid_request_id(inbound_id))
    request_id_.assign(inbound_id);
  else
    proxy::assign_new_request_id(request_id_);
  const std::string_view request_id = request_id_;
  const auto path = proxy::path_of(req.target);
  // A request we answer without reading its body ends the connection: its unread body bytes
  // must never be parsed as a next request.
  const bool close_on_error = req.has_body() || !req.keep_alive() || req.upgrade_websocket;

  const auto finish = [&](const outcome& o, const config::route* route, const proxy::request_context* ctx) {
    if (route)
      rt->routes[static_cast<std::size_t>(route - cfg.routes.data())]
          .by_status_class[status_class_index(o.status)]
          ->inc();
    else
      rt->no_route->inc();
    if (!cfg.log.access_log) return;
    obs::access_record rec;
    rec.request_id = request_id;
    rec.method = req.method;
    rec.path = path;
    rec.route = route ? std::string_view(route->name) : std::string_view("none");
    rec.upstream = route ? std::string_view(route->upstream) : std::string_view();
    if (ctx) {
      rec.auth_method = ctx->auth_method;
      rec.key_id = ctx->key_id;
      rec.tenant = ctx->tenant;
      rec.cache_tier = ctx->cache_tier;
      rec.would_deny = ctx->would_deny;
    }
    rec.client_ip = client_ip_;
    rec.status = o.status;
    rec.duration_ms = std::chrono::duration<double, std::milli>(steady::now() - started).count();
    obs::write_access_log(rec);
  };

  // Policy checks that need the parsed head (framing itself was checked by the parser).
  if (!proxy::is_safe_path(path)) {
    worker_.shared().framing_rejections->with({"unsafe_path"}).inc();
    const auto o = co_await respond_error(errc::bad_request, request_id, true);
    finish(o, nullptr, nullptr);
    co_return outcome{false, o.status};
  }
  if (cfg.server.underscore_headers == config::underscore_policy::reject)
    for (const auto& f : req.fields)
      if (f.name.find('_') != std::string_view::npos) {
        worker_.shared().framing_rejections->with({"underscore_header"}).inc();
        const auto o = co_await respond_error(errc::bad_request, request_id, true);
        finish(o, nullptr, nullptr);
        co_return outcome{false, o.status};
      }

  const config::route* route = proxy::match_route(cfg.routes, req.method, path, req.host);
  if (!route) {
    const auto o = co_await respond_error(errc::no_route, request_id, close_on_error);
    finish(o, nullptr, nullptr);
    co_return o;
  }

  proxy::request_context ctx = make_request_context(req, *route, cfg, request_id);
  if (route->auth != config::auth_requirement::none) {
    auto* auth = worker_.shared().auth;
    // Most requests are decided without suspending (local cache, malformed credential).
    std::optional<proxy::phase_result> decided;
    if (auth) decided = auth->decide_now(ctx);
    proxy::phase_result verdict;
    if (decided)
      verdict = *decided;
    else if (auth)
      verdict = co_await auth->run(ctx);
    else
      verdict = proxy::phase_result{false, errc::store_unavailable};
    if (!verdict.proceed) {
      const auto o = co_await respond_error(verdict.error, request_id, close_on_error);
      finish(o, route, &ctx);
      co_return o;
    }
  }

  if (req.framing.content_length && *req.framing.content_length > cfg.server.limits.max_body_bytes) {
    const auto o = co_await respond_error(errc::body_too_large, request_id, true);
    finish(o, route, &ctx);
    co_return outcome{false, o.status};
  }

  const auto o = co_await forward(req, *rt, *route, ctx);
  finish(o, route, &ctx);
  co_return o;
}

}  // namespace keygate::http

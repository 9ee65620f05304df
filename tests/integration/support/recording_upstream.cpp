#include "integration/support/recording_upstream.hpp"

#include <sys/socket.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "integration/support/websocket.hpp"

namespace keygate::itest {

namespace {

std::string reason_for(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

std::string head_text(int status, const header_list& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_for(status) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  return out;
}

std::uint64_t number_after(std::string_view target, std::string_view prefix) {
  auto rest = target.substr(prefix.size());
  rest = rest.substr(0, rest.find_first_of("/?"));
  std::uint64_t n = 0;
  std::from_chars(rest.data(), rest.data() + rest.size(), n);
  return n;
}

bool stream_pattern(upstream_exchange& x, std::uint64_t n, bool chunked, std::size_t piece) {
  for (std::uint64_t off = 0; off < n; off += piece) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(piece, n - off));
    const auto data = pattern(off, len);
    if (!x.send(chunked ? chunk(data) : data)) return false;
  }
  return !chunked || x.send("0\r\n\r\n");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
void upstream_exchange::respond(int status, const header_list& headers, std::string_view body) {
  header_list all = headers;
  bool framed = false;
  for (const auto& h : headers)
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) framed = true;
  if (!framed && status >= 200 && status != 204 && status != 304)
    all.push_back({"Content-Length", std::to_string(body.size())});
  if (close_) all.push_back({"Connection", "close"});
  send(head_text(status, all));
  if (!body.empty()) send(body);
}

bool upstream_exchange::send(std::string_view raw) {
  return connection.send_all(raw, 30s);
}
bool upstream_exchange::sleep(millis d) {
  return up_.sleep_interruptible(d);
}
bool upstream_exchange::stopping() const {
  return up_.stopping();
}
unsigned short upstream_exchange::upstream_port() const {
  return up_.port();
}

void step_gate::release() {
  {
    std::lock_guard lk(m_);
    ++released_;
  }
  cv_.notify_all();
}

bool step_gate::wait_for(std::size_t n, millis timeout) {
  std::unique_lock lk(m_);
  if (cv_.wait_for(lk, timeout, [&] { return released_ >= n; })) return true;
  ++timeouts_;
  return false;
}

// ---------------------------------------------------------------------------------------------
namespace handlers {

upstream_handler echo(bool keep_alive) {
  return [keep_alive](upstream_exchange& x) {
    const auto& r = x.request;
    nlohmann::json j;
    j["method"] = r.head.method;
    j["target"] = r.head.target;
    j["version"] = r.head.version;
    j["headers"] = nlohmann::json::array();
    for (const auto& h : r.head.headers) j["headers"].push_back({h.name, h.value});
    j["body_bytes"] = r.body_bytes;
    j["body_hash"] = r.body_hash;
    j["connection"] = r.connection;
    if (!keep_alive) x.close_after();
    x.respond(200,
              {{"Content-Type", "application/json"}, {"X-Upstream-Port", std::to_string(x.upstream_port())}},
              j.dump());
  };
}

upstream_handler fixed_body(std::uint64_t n, bool chunked, std::size_t piece) {
  return [=](upstream_exchange& x) {
    header_list h{{"Content-Type", "application/octet-stream"}};
    if (chunked)
      h.push_back({"Transfer-Encoding", "chunked"});
    else
      h.push_back({"Content-Length", std::to_string(n)});
    x.respond(200, h);
    if (x.request.method() == "HEAD") return;
    if (!stream_pattern(x, n, chunked, piece)) x.close_after();
  };
}

upstream_handler standard() {
  return [](upstream_exchange& x) {
    const std::string_view t = x.request.target();
    if (t.rfind("/bytes/", 0) == 0) return fixed_body(number_after(t, "/bytes/"), false)(x);
    if (t.rfind("/chunked/", 0) == 0) return fixed_body(number_after(t, "/chunked/"), true, 16 * 1024)(x);
    if (t.rfind("/status/", 0) == 0) {
      const auto code = static_cast<int>(number_after(t, "/status/"));
      return x.respond(code, {{"Content-Type", "application/json"}},
                       R"({"upstream_status":)" + std::to_string(code) + "}");
    }
    if (t.rfind("/sleep/", 0) == 0) {
      x.sleep(millis(number_after(t, "/sleep/")));
      return echo()(x);
    }
    echo()(x);
  };
}

upstream_handler sse(std::vector<std::string> events, std::shared_ptr<step_gate> gate, millis delay) {
  return [events = std::move(events), gate, delay](upstream_exchange& x) {
    x.respond(200, {{"Content-Type", "text/event-stream"},
                    {"Cache-Control", "no-cache"},
                    {"Transfer-Encoding", "chunked"}});
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i > 0) {
        if (gate)
          gate->wait_for(i, 10s);
        else
          x.sleep(delay);
      }
      if (!x.send(chunk(events[i]))) return x.close_after();
    }
    x.send("0\r\n\r\n");
  };
}

upstream_handler blackhole() {
  return [](upstream_exchange& x) {
    while (x.sleep(100ms)) {
    }
    x.close_after();
  };
}

upstream_handler reset_mid_body(std::uint64_t declared, std::size_t sent, millis pause) {
  return [=](upstream_exchange& x) {
    x.send(head_text(
        200, {{"Content-Type", "application/octet-stream"}, {"Content-Length", std::to_string(declared)}}));
    x.send(pattern(0, sent));
    x.sleep(pause);
    x.connection.abort();
    x.close_after();
  };
}

upstream_handler close_mid_body(std::uint64_t declared, std::size_t sent, millis pause) {
  return [=](upstream_exchange& x) {
    x.send(head_text(
        200, {{"Content-Type", "application/octet-stream"}, {"Content-Length", std::to_string(declared)}}));
    x.send(pattern(0, sent));
    x.sleep(pause);
    x.connection.shutdown_write();
    x.close_after();
  };
}

upstream_handler raw(std::string bytes) {
  return [bytes = std::move(bytes)](upstream_exchange& x) {
    x.send(bytes);
    x.sleep(50ms);
    x.close_after();
  };
}

upstream_handler websocket_echo() {
  return [](upstream_exchange& x) {
    const auto key = x.request.header("Sec-WebSocket-Key");
    const auto upgrade = x.request.header("Upgrade");
    if (!key || !upgrade || !iequals(*upgrade, "websocket")) {
      x.respond(400, {{"Content-Type", "text/plain"}}, "expected a websocket upgrade");
      return;
    }
    x.send(head_text(101, {{"Upgrade", "websocket"},
                           {"Connection", "Upgrade"},
                           {"Sec-WebSocket-Accept", ws::accept_key(*key)}}));
    x.close_after();
    auto& buf = x.reader.buffer();
    while (!x.stopping()) {
      while (auto f = ws::decode(buf)) {
        if (f->op == ws::close) {
          x.send(ws::encode(ws::close, f->payload, false));
          return;
        }
        if (f->op == ws::ping)
          x.send(ws::encode(ws::pong, f->payload, false));
        else if (f->op == ws::text || f->op == ws::binary)
          x.send(ws::encode(f->op, f->payload, false));
      }
      if (x.connection.read_some(buf, 30s) != io_status::data) return;
    }
  };
}

upstream_handler delayed(millis d, upstream_handler inner) {
  return [d, inner = std::move(inner)](upstream_exchange& x) {
    x.sleep(d);
    inner(x);
  };
}

}  // namespace handlers

// ---------------------------------------------------------------------------------------------
recording_upstream::recording_upstream(upstream_handler handler, upstream_options opts)
    : opts_(std::move(opts)), listener_(0, 512), handler_(std::move(handler)) {
  if (!opts_.tls_cert_file.empty()) tls_ = make_server_tls_context(opts_.tls_cert_file, opts_.tls_key_file);
  acceptor_ = std::thread([this] { accept_loop(); });
}

recording_upstream::~recording_upstream() {
  stop();
  if (tls_) free_tls_context(tls_);
}

std::string recording_upstream::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

void recording_upstream::set_handler(upstream_handler h) {
  std::lock_guard lk(m_);
  handler_ = std::move(h);
}

std::vector<recorded_request> recording_upstream::requests() const {
  std::lock_guard lk(m_);
  return requests_;
}

std::size_t recording_upstream::request_count() const {
  std::lock_guard lk(m_);
  return requests_.size();
}

bool recording_upstream::wait_for_requests(std::size_t n, millis timeout) const {
  std::unique_lock lk(m_);
  return cv_.wait_for(lk, timeout, [&] { return requests_.size() >= n; });
}

bool recording_upstream::sleep_interruptible(millis d) {
  std::unique_lock lk(m_);
  return !cv_.wait_for(lk, d, [&] { return stopping_.load(); });
}

void recording_upstream::stop() {
  {
    std::lock_guard lk(m_);
    if (stopping_.exchange(true)) return;
  }
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  listener_.close();
  std::vector<std::thread> threads;
  {
    std::lock_guard lk(m_);
    for (auto& l : live_) {
      std::lock_guard lk2(l->m);
      if (l->fd >= 0) ::shutdown(l->fd, SHUT_RDWR);
    }
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void recording_upstream::accept_loop() {
  while (!stopping_) {
    conn c = listener_.accept(50ms);
    if (!c.valid()) continue;
    const auto index = accepted_++;
    std::lock_guard lk(m_);
    if (stopping_) break;
    threads_.emplace_back([this, index, c = std::move(c)]() mutable { serve(std::move(c), index); });
  }
}

void recording_upstream::serve(conn c, std::size_t index) {
  auto l = std::make_shared<live>();
  l->fd = c.fd();
  {
    std::lock_guard lk(m_);
    if (stopping_) return;
    live_.push_back(l);
  }
  if (tls_ && !c.accept_tls(tls_)) {
    std::lock_guard lk(l->m);
    l->fd = -1;
    return;
  }
  http_reader reader(c);
  reader.count_into(&bytes_);
  for (std::size_t seq = 0; !stopping_; ++seq) {
    auto head = reader.read_head(true, 600s);
    if (!head) break;
    ++heads_;
    recorded_request req;
    req.connection = index;
    req.sequence = seq;
    const auto kind = request_body_kind(*head);
    req.body_was_chunked = kind == body_kind::chunked;
    std::uint64_t length = 0;
    if (kind == body_kind::length) {
      const auto cl = head->content_length();
      if (!cl) break;
      length = *cl;
    }
    req.head = std::move(*head);
    if (opts_.body_read_delay.count() > 0) sleep_interruptible(opts_.body_read_delay);
    fnv1a hash;
    const bool ok = reader.read_body(
        kind == body_kind::until_close ? body_kind::none : kind, length,
        [&](std::string_view d) {
          req.body_bytes += d.size();
          hash.add(d);
          if (req.body.size() < opts_.body_store_limit)
            req.body.append(d.substr(0, std::min(d.size(), opts_.body_store_limit - req.body.size())));
        },
        30s);
    if (!ok) break;
    req.body_hash = hash.h;
    upstream_handler h;
    {
      std::lock_guard lk(m_);
      requests_.push_back(req);
      h = handler_;
    }
    cv_.notify_all();
    upstream_exchange x(*this, req, c, reader);
    h(x);
    if (x.closing() || req.head.wants_close() || !c.valid()) break;
  }
  std::lock_guard lk(l->m);
  l->fd = -1;
  c.close();
}

}  // namespace keygate::itest

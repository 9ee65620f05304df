#include "integration/support/http_client.hpp"

#include <atomic>
#include <thread>

namespace keygate::itest {

nlohmann::json response::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

std::string response::describe() const {
  std::string out = "status=" + std::to_string(head.status) + " complete=" + (complete ? "yes" : "no");
  if (!error.empty()) out += " error=" + error;
  out += "\n";
  for (const auto& h : head.headers) out += "  " + h.name + ": " + h.value + "\n";
  out += "  body: " + body.substr(0, 2048);
  return out;
}

std::string build_request(std::string_view method, std::string_view target, const header_list& headers,
                          std::string_view body, std::string_view host) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_host = false, has_framing = false;
  for (const auto& h : headers) {
    if (iequals(h.name, "Host")) has_host = true;
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) has_framing = true;
  }
  if (!has_host && !host.empty()) out.append("Host: ").append(host).append("\r\n");
  for (const auto& h : headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!has_framing && (!body.empty() || method == "POST" || method == "PUT"))
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

http_client::http_client(unsigned short port, millis connect_timeout)
    : conn_(conn::connect(port, connect_timeout)), reader_(conn_) {}

http_client::http_client(conn c) : conn_(std::move(c)), reader_(conn_) {}

http_client http_client::tls(unsigned short port, const tls_client_options& opts) {
  return http_client(conn::connect_tls(port, opts));
}

bool http_client::send(std::string_view raw) {
  return conn_.send_all(raw);
}

bool http_client::send_slowly(std::string_view raw, std::size_t piece, millis delay) {
  if (piece == 0) piece = raw.size();
  while (!raw.empty()) {
    const auto n = std::min(piece, raw.size());
    if (!conn_.send_all(raw.substr(0, n))) return false;
    raw.remove_prefix(n);
    if (!raw.empty()) std::this_thread::sleep_for(delay);
  }
  return true;
}

response http_client::request(std::string_view method, std::string_view target, const header_list& headers,
                              std::string_view body, millis timeout) {
  if (!send(build_request(method, target, headers, body))) {
    response r;
    r.error = "send failed";
    r.end = io_status::reset;
    return r;
  }
  return read_response(method, timeout);
}

response http_client::read_response(std::string_view request_method, millis timeout,
                                    const std::function<void(std::string_view)>& on_data) {
  response r;
  auto head = reader_.read_head(false, timeout);
  if (!head) {
    r.error = reader_.error();
    r.end = reader_.last_status();
    return r;
  }
  r.head = std::move(*head);
  const auto kind = response_body_kind(r.head, request_method);
  std::uint64_t length = 0;
  if (kind == body_kind::length) {
    const auto cl = r.head.content_length();
    if (!cl) {
      r.error = "invalid Content-Length in response";
      return r;
    }
    length = *cl;
  }
  const bool ok = reader_.read_body(
      kind, length,
      [&](std::string_view d) {
        if (on_data)
          on_data(d);
        else
          r.body.append(d);
      },
      timeout);
  r.complete = ok;
  r.end = reader_.last_status();
  if (!ok)
    r.error = reader_.error().empty() ? std::string("body ended: ") + to_string(r.end) : reader_.error();
  return r;
}

bool http_client::wait_closed(millis timeout, std::string* extra) {
  auto& buf = reader_.buffer();
  if (extra) *extra += buf;
  buf.clear();
  if (!conn_.valid()) return true;
  const auto deadline = steady::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (left.count() <= 0) return false;
    std::string got;
    const auto s = conn_.read_some(got, left);
    if (extra) *extra += got;
    if (s == io_status::closed || s == io_status::reset) return true;
    if (s == io_status::timeout) return false;
  }
}

raw_exchange exchange_raw(unsigned short port, std::string_view raw, millis timeout, std::size_t piece,
                          millis delay, std::string_view request_method) {
  raw_exchange out;
  http_client c(port);
  // Write from a helper thread while reading here, so that a server answering early (and
  // closing) is read promptly and a server that stops reading cannot block us.
  std::atomic<steady::rep> sent_at{0};
  std::thread writer([&] {
    c.send_slowly(raw, piece, delay);
    sent_at = steady::now().time_since_epoch().count();
  });
  const auto deadline = steady::now() + timeout;
  auto finish = [&] {
    c.connection().shutdown_both();
    writer.join();
    return out;
  };
  while (true) {
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (left.count() <= 0) break;
    auto r = c.read_response(request_method, left);
    const bool got_head = r.head.status != 0;
    if (got_head) out.responses.push_back(r);
    if (!r.complete) {
      if (!got_head) out.trailing = c.reader().buffer();
      out.closed = r.end == io_status::closed || r.end == io_status::reset;
      if (out.closed) {
        const auto at = sent_at.load();
        const auto from = at ? steady::time_point(steady::duration(at)) : steady::now();
        out.close_seconds = seconds_since(from);
      }
      return finish();
    }
  }
  out.trailing = c.reader().buffer();
  return finish();
}

}  // namespace keygate::itest

#include "keygate/proxy/header_policy.hpp"

#include "keygate/core/text.hpp"

namespace keygate::proxy {
namespace {

char fold(char c) noexcept {
  if (c == '_') return '-';
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Headers keygate always replaces with its own value (or drops) on the way upstream.
bool is_replaced_upstream(std::string_view n) noexcept {
  switch (n.size()) {
    case 4:
      return core::iequals(n, "host");
    case 6:
      return core::iequals(n, "expect");
    case 11:
      return core::iequals(n, "traceparent");
    case 12:
      return core::iequals(n, "x-request-id");
    case 14:
      return core::iequals(n, "content-length");
    case 15:
      return core::iequals(n, "x-forwarded-for");
    case 16:
      return core::iequals(n, "x-forwarded-host");
    case 17:
      return core::iequals(n, "x-forwarded-proto");
    default:
      return false;
  }
}

}  // namespace

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

bool has_identity_prefix(std::string_view name, std::string_view prefix) noexcept {
  if (name.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (fold(name[i]) != fold(prefix[i])) return false;
  return true;
}

std::string strip_cookie(std::string_view header, std::string_view name) {
  std::string out;
  while (!header.empty()) {
    const auto semi = header.find(';');
    auto pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    if (!pair.empty() && key != name) {
      if (!out.empty()) out += "; ";
      out += pair;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return out;
}

void append_upstream_request(std::string& out, const http::request_head& req, const forward_context& ctx) {
  out += req.method;
  out += ' ';
  out += ctx.target;
  out += " HTTP/1.1\r\n";
  append_field(out, "Host", req.host);

  std::string inbound_xff;  // several X-Forwarded-For fields form one list, in order
  std::string_view inbound_proto, inbound_host;
  for (const auto& f : req.fields) {
    const auto n = f.name;
    if (http::is_hop_by_hop(n) || http::connection_names(req.framing, n)) continue;
    if (has_identity_prefix(n, ctx.identity_prefix)) continue;
    if (ctx.underscores != config::underscore_policy::allow && n.find('_') != std::string_view::npos)
      continue;
    if (is_replaced_upstream(n)) {
      if (core::iequals(n, "x-forwarded-for")) {
        if (!inbound_xff.empty()) inbound_xff += ", ";
        inbound_xff += f.value;
      } else if (core::iequals(n, "x-forwarded-proto"))
        inbound_proto = f.value;
      else if (core::iequals(n, "x-forwarded-host"))
        inbound_host = f.value;
      continue;
    }
    if (ctx.hide_authorization) {
      if (core::iequals(n, "authorization")) continue;
      if (!ctx.api_key_header.empty() && core::iequals(n, ctx.api_key_header)) continue;
      if (!ctx.session_cookie.empty() && core::iequals(n, "cookie")) {
        const auto rest = strip_cookie(f.value, ctx.session_cookie);
        if (!rest.empty()) append_field(out, "Cookie", rest);
        continue;
      }
    }
    append_field(out, n, f.value);
  }

  out += ctx.identity_lines;

  // Forwarding headers: a client's own values are believed only from a trusted proxy.
  out += "X-Forwarded-For: ";
  if (ctx.client_is_trusted && !inbound_xff.empty()) {
    out += inbound_xff;
    out += ", ";
  }
  out += ctx.client_ip;
  out += "\r\n";
  append_field(out, "X-Forwarded-Proto",
               ctx.client_is_trusted && !inbound_proto.empty() ? inbound_proto : ctx.scheme);
  append_field(out, "X-Forwarded-Host",
               ctx.client_is_trusted && !inbound_host.empty() ? inbound_host : req.host);
  append_field(out, "X-Request-Id", ctx.request_id);
  append_field(out, "traceparent", ctx.traceparent);

  if (req.upgrade_websocket) {
    out += "Connection: Upgrade\r\nUpgrade: websocket\r\n";
  } else if (req.framing.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (req.framing.content_length) {
    append_field(out, "Content-Length", std::to_string(*req.framing.content_length));
  }
  out += "\r\n";
}

void append_client_response(std::string& out, const http::response_head& res, std::string_view request_id,
                            bool chunked_to_client, bool close) {
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += res.reason;
  out += "\r\n";
  const bool switching = res.status == 101;
  bool has_request_id = false;
  for (const auto& f : res.fields) {
    const auto n = f.name;
    if (switching && (core::iequals(n, "upgrade") || core::iequals(n, "connection"))) {
      append_field(out, n, f.value);
      continue;
    }
    if (http::is_hop_by_hop(n) || http::connection_names(res.framing, n)) continue;
    if (core::iequals(n, "content-length")) {
      if (!chunked_to_client) append_field(out, n, f.value);
      continue;
    }
    if (core::iequals(n, "x-request-id")) has_request_id = true;
    append_field(out, n, f.value);
  }
  if (!has_request_id && !request_id.empty()) append_field(out, "X-Request-Id", request_id);
  if (chunked_to_client) out += "Transfer-Encoding: chunked\r\n";
  if (close && !switching) out += "Connection: close\r\n";
  out += "\r\n";
}

}  // namespace keygate::proxy

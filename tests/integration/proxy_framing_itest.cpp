// Strict request framing (SPEC §4, issue 2 item 5): a raw-socket table of malformed and hostile
// requests. Every case asserts the exact status and JSON error code, "Connection: close", that
// keygate closed the socket with nothing after the error response, and that the recording
// upstream got nothing of the rejected request.
//
// Decisions where SPEC §4 leaves room (documented here, asserted below):
//  * Transfer-Encoding: the value must be exactly `chunked` (case-insensitive, surrounding OWS
//    trimmed). TE together with Content-Length → 400 whatever the TE says. TE on HTTP/1.0 → 400.
//    Several TE fields → 400. A TE made only of registered codings but not exactly `chunked`
//    (`gzip`, `chunked, gzip`, `gzip, chunked`, an empty value) → 400 ("a TE other than exactly
//    chunked"). A TE naming a coding keygate does not know at all (`xchunked`, `foo`) → 501
//    not_implemented (RFC 9112 §6.1 "unknown coding").
//  * Content-Length: exactly one field whose value is 1*DIGIT fitting in 64 bits; several fields
//    (even equal), a list, a sign, hex, inner space, letters, empty or an overflowing value → 400.
//  * Request line / version: anything but `METHOD SP origin-or-absolute-form SP HTTP/1.1|HTTP/1.0`
//    → 400 (including HTTP/1.2, HTTP/2.0, lowercase `http/1.1`, tabs, double spaces).
//  * Host: exactly one, a valid host[:port] (no spaces) → otherwise 400.
//  * Absolute-form target whose authority differs from Host → 400 (never route on one and
//    forward the other).
//  * Chunked-body errors are found while the body streams, possibly after the head went upstream
//    ("body" phase): the client still gets the error status, and the upstream must never see a
//    complete request (it may have seen the head). A chunk size that overflows 64 bits may be
//    refused as 400 or 413.
//  * Limits (set explicitly below): request line 8 KiB → 414; one field line 8 KiB → 431; all
//    fields 16 KiB → 431; 100 fields → 431 at the 101st; body 1 MiB → 413 (by Content-Length
//    up front, or while a chunked body streams).
#include <gtest/gtest.h>

#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

enum class phase { head, body };

struct framing_case {
  framing_case(std::string n, std::string r, int s, std::string e, phase w = phase::head, int ok = 0,
               int alt = 0, std::string alt_e = {})
      : name(std::move(n)),
        raw(std::move(r)),
        status(s),
        error(std::move(e)),
        when(w),
        ok_before(ok),
        alt_status(alt),
        alt_error(std::move(alt_e)) {}
  std::string name;
  std::string raw;
  int status;
  std::string error;
  phase when = phase::head;
  int ok_before = 0;   // valid pipelined requests before the bad one (each must get a 200)
  int alt_status = 0;  // another acceptable status (with alt_error), 0 = none
  std::string alt_error;
};

std::ostream& operator<<(std::ostream& os, const framing_case& c) {
  return os << c.name;
}

const std::string H = "Host: gw.test\r\n";

std::string get(const std::string& fields) {
  return "GET / HTTP/1.1\r\n" + H + fields + "\r\n";
}
std::string post(const std::string& fields, const std::string& body) {
  return "POST /upload HTTP/1.1\r\n" + H + fields + "\r\n" + body;
}
std::string chunked_post(const std::string& body) {
  return post("Transfer-Encoding: chunked\r\n", body);
}

std::string many_headers(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "X-H-" + std::to_string(i) + ": v\r\n";
  return out;
}

std::string big_chunked_body(std::size_t total, std::size_t piece) {
  std::string out;
  for (std::size_t off = 0; off < total; off += piece)
    out += chunk(pattern(off, std::min(piece, total - off)));
  return out + "0\r\n\r\n";
}

std::vector<framing_case> cases() {
  using namespace std::string_literals;
  const std::string valid_get = "GET /first HTTP/1.1\r\n" + H + "\r\n";
  std::vector<framing_case> c = {
      // --- Content-Length + Transfer-Encoding --------------------------------------------------
      {"cl_then_te", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400,
       "bad_request"},
      {"te_then_cl", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400,
       "bad_request"},
      {"cl_te_smuggled_get",
       post("Content-Length: 44\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n"),
       400, "bad_request"},
      {"te_cl_lowercase_names", post("transfer-encoding: chunked\r\ncontent-length: 3\r\n", "0\r\n\r\n"), 400,
       "bad_request"},
      {"te_gzip_with_cl", post("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", "hello"), 400,
       "bad_request"},
      // --- Transfer-Encoding values ------------------------------------------------------------
      {"te_gzip_only", post("Transfer-Encoding: gzip\r\n", "hello"), 400, "bad_request"},
      {"te_chunked_then_gzip", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), 400, "bad_request"},
      {"te_gzip_then_chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 400, "bad_request"},
      {"te_two_fields", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
       400, "bad_request"},
      {"te_empty_value", post("Transfer-Encoding: \r\n", "0\r\n\r\n"), 400, "bad_request"},
      {"te_vertical_tab", post("Transfer-Encoding: chunked\x0b\r\n", "0\r\n\r\n"), 400, "bad_request"},
      {"te_space_before_colon", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), 400, "bad_request"},
      {"te_xchunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 501, "not_implemented"},
      {"te_unknown_coding", post("Transfer-Encoding: foo\r\n", "0\r\n\r\n"), 501, "not_implemented"},
      {"te_on_http10", "POST /upload HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "bad_request"},
      // --- Content-Length values ---------------------------------------------------------------
      {"cl_duplicate_same", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), 400, "bad_request"},
      {"cl_duplicate_different", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400,
       "bad_request"},
      {"cl_list", post("Content-Length: 5, 5\r\n", "hello"), 400, "bad_request"},
      {"cl_plus_sign", post("Content-Length: +5\r\n", "hello"), 400, "bad_request"},
      {"cl_negative", post("Content-Length: -5\r\n", "hello"), 400, "bad_request"},
      {"cl_hex", post("Content-Length: 0x5\r\n", "hello"), 400, "bad_request"},
      {"cl_inner_space", post("Content-Length: 1 2\r\n", "hello"), 400, "bad_request"},
      {"cl_trailing_letters", post("Content-Length: 5a\r\n", "hello"), 400, "bad_request"},
      {"cl_empty", post("Content-Length: \r\n", "hello"), 400, "bad_request"},
      {"cl_overflow_64bit", post("Content-Length: 18446744073709551616\r\n", "hello"), 400, "bad_request"},
      // --- obs-fold, bare CR / LF --------------------------------------------------------------
      {"obs_fold_space", get("X-A: a\r\n b\r\n"), 400, "bad_request"},
      {"obs_fold_tab", get("X-A: a\r\n\tb\r\n"), 400, "bad_request"},
      {"obs_fold_hides_te", post("X-A: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "hello"),
       400, "bad_request"},
      {"space_before_first_field", "GET / HTTP/1.1\r\n X-A: b\r\n" + H + "\r\n", 400, "bad_request"},
      {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: gw.test\n\n", 400, "bad_request"},
      {"bare_lf_one_field", "GET / HTTP/1.1\r\n" + H + "X-A: b\nX-B: c\r\n\r\n", 400, "bad_request"},
      {"bare_cr_in_value", get("X-A: a\rb\r\n"), 400, "bad_request"},
      {"bare_cr_after_request_line", "GET / HTTP/1.1\r" + H + "\r\n", 400, "bad_request"},
      // --- control bytes -----------------------------------------------------------------------
      {"nul_in_value", get("X-A: a\0b\r\n"s), 400, "bad_request"},
      {"nul_in_name", get("X-\0A: b\r\n"s), 400, "bad_request"},
      {"ctl_0x01_in_value", get("X-A: a\x01z\r\n"), 400, "bad_request"},
      {"del_in_value", get("X-A: a\x7fz\r\n"), 400, "bad_request"},
      {"esc_in_name",
       get("X-\x1b"
           "A: b\r\n"),
       400, "bad_request"},
      // --- field names -------------------------------------------------------------------------
      {"empty_field_name", get(": x\r\n"), 400, "bad_request"},
      {"space_before_colon", get("X-A : b\r\n"), 400, "bad_request"},
      {"name_with_quote", get("X-\"A: b\r\n"), 400, "bad_request"},
      {"name_with_space", get("X A: b\r\n"), 400, "bad_request"},
      {"name_with_parenthesis", get("X(A): b\r\n"), 400, "bad_request"},
      {"field_without_colon", get("X-A b\r\n"), 400, "bad_request"},
      // --- Host --------------------------------------------------------------------------------
      {"missing_host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400, "bad_request"},
      {"duplicate_host_same", get("Host: gw.test\r\n"), 400, "bad_request"},
      {"duplicate_host_different", get("Host: other.test\r\n"), 400, "bad_request"},
      {"host_with_space", "GET / HTTP/1.1\r\nHost: gw test\r\n\r\n", 400, "bad_request"},
      {"absolute_form_conflicting_host", "GET http://other.test/x HTTP/1.1\r\n" + H + "\r\n", 400,
       "bad_request"},
      // --- request line ------------------------------------------------------------------------
      {"method_invalid_char", "G@T / HTTP/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"method_empty", " / HTTP/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"double_space", "GET  / HTTP/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"space_in_target", "GET /a b HTTP/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"tab_separator", "GET\t/ HTTP/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"version_1_2", "GET / HTTP/1.2\r\n" + H + "\r\n", 400, "bad_request"},
      {"version_2_0", "GET / HTTP/2.0\r\n" + H + "\r\n", 400, "bad_request"},
      {"version_1_1x", "GET / HTTP/1.1x\r\n" + H + "\r\n", 400, "bad_request"},
      {"version_lowercase", "GET / http/1.1\r\n" + H + "\r\n", 400, "bad_request"},
      {"version_missing", "GET /\r\n" + H + "\r\n", 400, "bad_request"},
      // --- size limits -------------------------------------------------------------------------
      {"request_line_too_long", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + H + "\r\n", 414,
       "uri_too_long"},
      {"field_too_long", get("X-Long: " + std::string(9000, 'a') + "\r\n"), 431, "headers_too_large"},
      {"fields_total_too_large",
       get("X-A: " + std::string(7000, 'a') + "\r\nX-B: " + std::string(7000, 'b') +
           "\r\nX-C: " + std::string(7000, 'c') + "\r\n"),
       431, "headers_too_large"},
      {"too_many_fields_101", get(many_headers(100)), 431, "headers_too_large"},  // Host + 100 = 101
      {"body_too_large_by_cl", post("Content-Length: 2097152\r\n", ""), 413, "body_too_large"},
      {"body_too_large_chunked", chunked_post(big_chunked_body(1024 * 1024 + 128 * 1024, 64 * 1024)), 413,
       "body_too_large", phase::body},
      // --- chunked body syntax (found while streaming) -----------------------------------------
      {"chunk_size_not_hex", chunked_post("zz\r\nhello\r\n0\r\n\r\n"), 400, "bad_request", phase::body},
      {"chunk_size_0x_prefix", chunked_post("0x5\r\nhello\r\n0\r\n\r\n"), 400, "bad_request", phase::body},
      {"chunk_size_negative", chunked_post("-5\r\nhello\r\n0\r\n\r\n"), 400, "bad_request", phase::body},
      {"chunk_size_overflow", chunked_post("fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400, "bad_request",
       phase::body, 0, 413, "body_too_large"},
      {"chunk_data_without_crlf", chunked_post("5\r\nhelloXX0\r\n\r\n"), 400, "bad_request", phase::body},
      {"chunk_extension_20k", chunked_post("5;" + std::string(20000, 'e') + "\r\nhello\r\n0\r\n\r\n"), 400,
       "bad_request", phase::body},
      {"chunk_lines_bare_lf", chunked_post("5\nhello\n0\n\n"), 400, "bad_request", phase::body},
      // --- pipelined smuggling -----------------------------------------------------------------
      {"rejected_then_valid_same_packet",
       post("Content-Length: 1\r\nContent-Length: 2\r\n", "") + "GET /smuggled HTTP/1.1\r\n" + H + "\r\n",
       400, "bad_request"},
      {"cl0_get_then_garbage", "GET /first HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\nGARBAGE\r\n\r\n",
       400, "bad_request", phase::head, 1},
      {"valid_then_cl_te",
       valid_get + post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400,
       "bad_request", phase::head, 1},
      {"valid_then_bare_lf", valid_get + "GET /second HTTP/1.1\nHost: gw.test\n\n", 400, "bad_request",
       phase::head, 1},
  };
  return c;
}

class Framing : public ::testing::TestWithParam<framing_case> {};

gateway_config framing_config(const recording_upstream& up) {
  auto cfg = single_route_config(up);
  cfg.limit("max_request_line_bytes", "8192")
      .limit("max_field_bytes", "8192")
      .limit("max_header_bytes", "16384")
      .limit("max_header_count", "100")
      .limit("max_body_bytes", "1048576");
  return cfg;
}

TEST_P(Framing, RejectedClosedAndNeverForwarded) {
  const auto& tc = GetParam();
  recording_upstream up;
  gateway gw(framing_config(up));
  ASSERT_TRUE(gw.started());

  const auto x = exchange_raw(gw.port(), tc.raw, 5s);
  ASSERT_EQ(x.responses.size(), static_cast<std::size_t>(tc.ok_before + 1))
      << "expected " << tc.ok_before << " 200(s) then one error; closed=" << x.closed
      << (x.responses.empty() ? std::string() : "\nlast: " + x.responses.back().describe());
  for (int i = 0; i < tc.ok_before; ++i) {
    EXPECT_EQ(x.responses[i].status(), 200) << x.responses[i].describe();
    EXPECT_TRUE(x.responses[i].complete);
  }
  const auto& r = x.responses.back();
  EXPECT_TRUE(r.complete) << r.describe();
  if (tc.alt_status != 0 && r.status() == tc.alt_status) {
    EXPECT_TRUE(is_json_error(r, tc.alt_status, {tc.alt_error.c_str()}));
  } else {
    EXPECT_TRUE(is_json_error(r, tc.status, {tc.error.c_str()}));
  }
  EXPECT_TRUE(says_close(r));
  EXPECT_TRUE(x.closed) << "keygate did not close the connection after the error";
  EXPECT_EQ(x.trailing, "") << "bytes after the error response (a second response?)";

  // Give a (wrongly) forwarded request time to arrive before asserting it did not.
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(up.request_count(), static_cast<std::size_t>(tc.ok_before))
      << "the upstream saw a complete bad request";
  if (tc.when == phase::head) {
    EXPECT_EQ(up.heads_received(), static_cast<std::size_t>(tc.ok_before))
        << "the upstream saw the rejected head";
    if (tc.ok_before == 0) {
      EXPECT_EQ(up.bytes_received(), 0u) << "the upstream received bytes of a rejected request";
    }
  }
  for (const auto& req : up.requests()) EXPECT_EQ(req.target(), "/first");
}

INSTANTIATE_TEST_SUITE_P(ProxyFraming, Framing, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<framing_case>& i) { return i.param.name; });

TEST(ProxyFramingTable, HasAtLeastFortyCases) {
  EXPECT_GE(cases().size(), 40u);
}

// `Expect: 100-continue` with a Content-Length over max_body_bytes: the final 413 comes first,
// never a 100 Continue, and nothing goes upstream.
TEST(ProxyFramingExpect, OversizedExpectContinueGets413Without100) {
  recording_upstream up;
  gateway gw(framing_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_TRUE(c.send(post("Expect: 100-continue\r\nContent-Length: 2097152\r\n", "")));
  const auto r = c.read_response("POST", 5s);
  EXPECT_TRUE(is_json_error(r, 413, {"body_too_large"}));
  EXPECT_TRUE(says_close(r));
  EXPECT_TRUE(c.wait_closed(3s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.bytes_received(), 0u);
}

// The other side of strictness: edge cases that are valid HTTP/1.1 must still be proxied, with
// the body the client meant.
struct accepted_case {
  accepted_case(std::string n, std::string r, std::string b)
      : name(std::move(n)), raw(std::move(r)), body(std::move(b)) {}
  std::string name;
  std::string raw;
  std::string body;  // what the upstream must receive
  std::string target = "/upload";
};
std::ostream& operator<<(std::ostream& os, const accepted_case& c) {
  return os << c.name;
}

std::vector<accepted_case> accepted_cases() {
  const std::string inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  return {
      {"te_chunked_capitalised", post("Transfer-Encoding: Chunked\r\n", chunk("hello") + "0\r\n\r\n"),
       "hello"},
      {"te_chunked_uppercase_ows", post("Transfer-Encoding:   CHUNKED  \r\n", chunk("hi") + "0\r\n\r\n"),
       "hi"},
      {"short_chunk_extension", post("Transfer-Encoding: chunked\r\n", "5;name=value\r\nhello\r\n0\r\n\r\n"),
       "hello"},
      {"chunked_trailer", post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"),
       "abc"},
      {"cl_with_ows", post("Content-Length:    5   \r\n", "hello"), "hello"},
      // A body that looks like a request is just a body: one request upstream, never two.
      {"body_looks_like_request", post("Content-Length: " + std::to_string(inner.size()) + "\r\n", inner),
       inner},
      {"absolute_form_matching_host",
       "POST http://gw.test/upload HTTP/1.1\r\n" + H + "Content-Length: 2\r\n\r\nok", "ok"},
  };
}

class FramingAccepted : public ::testing::TestWithParam<accepted_case> {};

TEST_P(FramingAccepted, ProxiedWithTheIntendedBody) {
  const auto& tc = GetParam();
  recording_upstream up;
  gateway gw(framing_config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_TRUE(c.send(tc.raw));
  const auto r = c.read_response("POST", 5s);
  ASSERT_TRUE(r.complete) << r.describe();
  EXPECT_EQ(r.status(), 200) << r.describe();
  ASSERT_TRUE(up.wait_for_requests(1, 2s));
  std::this_thread::sleep_for(100ms);
  const auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target(), tc.target);
  EXPECT_EQ(reqs[0].body, tc.body);
  EXPECT_EQ(reqs[0].body_bytes, tc.body.size());
}

INSTANTIATE_TEST_SUITE_P(ProxyFramingAccepted, FramingAccepted, ::testing::ValuesIn(accepted_cases()),
                         [](const ::testing::TestParamInfo<accepted_case>& i) { return i.param.name; });

}  // namespace
}  // namespace keygate::itest

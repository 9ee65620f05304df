#include "keygate/http/head_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keygate::http {
namespace {

struct outcome {
  parse_state state;
  errc code = errc::ok;
  std::string reason;
  request_head head;
};

// Runs the scanner and the parser over `raw` exactly as a session does.
outcome parse(const std::string& raw, head_limits limits = {}) {
  outcome o;
  head_scanner scanner(limits, true);
  o.state = scanner.scan(raw);
  if (o.state == parse_state::failed) {
    o.code = scanner.error().code;
    o.reason = std::string(scanner.error().reason);
    return o;
  }
  if (o.state == parse_state::incomplete) return o;
  static std::string keep;  // the head must outlive the views
  keep = raw.substr(0, scanner.head_bytes());
  if (auto e = parse_request_head(keep, limits, o.head)) {
    o.state = parse_state::failed;
    o.code = e->code;
    o.reason = std::string(e->reason);
  }
  return o;
}

TEST(HeadParser, ParsesASimpleRequest) {
  const auto o = parse("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v  \r\n\r\nBODY");
  ASSERT_EQ(o.state, parse_state::complete);
  EXPECT_EQ(o.head.method, "GET");
  EXPECT_EQ(o.head.target, "/a?b=1");
  EXPECT_EQ(o.head.host, "example.com");
  EXPECT_EQ(o.head.find("x-thing"), "v");
  EXPECT_TRUE(o.head.keep_alive());
  EXPECT_FALSE(o.head.has_body());
}

TEST(HeadParser, IncompleteUntilTheBlankLine) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n").state, parse_state::incomplete);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\r").state, parse_state::incomplete);
}

TEST(HeadParser, FramingFacts) {
  auto o = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
  ASSERT_EQ(o.state, parse_state::complete);
  EXPECT_EQ(o.head.framing.content_length, 12u);
  o = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(o.state, parse_state::complete);
  EXPECT_TRUE(o.head.framing.chunked);
  o = parse("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(o.head.keep_alive());
  o = parse("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(o.head.keep_alive());
  o = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Foo\r\n\r\n");
  EXPECT_FALSE(o.head.keep_alive());
  EXPECT_TRUE(connection_names(o.head.framing, "x-foo"));
  o = parse("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_TRUE(o.head.upgrade_websocket);
  o = parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(o.head.expect_continue);
}

// Field values are checked eight bytes at a time: a forbidden byte is found at every offset,
// HTAB and obs-text are accepted at every offset.
TEST(HeadParser, ValueBytesAreCheckedAtEveryOffset) {
  for (std::size_t at = 0; at < 20; ++at) {
    std::string value(20, 'v');
    value[at] = '\x01';
    auto o = parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "\r\n\r\n");
    EXPECT_EQ(o.state, parse_state::failed) << "control byte at " << at;
    EXPECT_EQ(o.reason, "control_byte") << at;
    value[at] = '\x7f';
    o = parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "\r\n\r\n");
    EXPECT_EQ(o.state, parse_state::failed) << "DEL at " << at;
    value[at] = '\t';
    o = parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "x\r\n\r\n");
    EXPECT_EQ(o.state, parse_state::complete) << "HTAB at " << at;
    value[at] = '\xe9';
    o = parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "\r\n\r\n");
    EXPECT_EQ(o.state, parse_state::complete) << "obs-text at " << at;
  }
}

// A keep-alive session parses every request into the same head object: nothing of the
// previous request may survive.
TEST(HeadParser, ReusedHeadKeepsNothingOfThePreviousRequest) {
  request_head head;
  const std::string first =
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close, X-A\r\nExpect: 100-continue\r\n"
      "X-One: 1\r\n\r\n";
  ASSERT_FALSE(parse_request_head(first, {}, head));
  const std::string second = "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
  ASSERT_FALSE(parse_request_head(second, {}, head));
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/b");
  EXPECT_EQ(head.host, "b");
  ASSERT_EQ(head.fields.size(), 1u);
  EXPECT_FALSE(head.framing.content_length);
  EXPECT_TRUE(head.framing.connection_tokens.empty());
  EXPECT_FALSE(head.framing.connection_close);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_TRUE(head.keep_alive());
  EXPECT_EQ(head.find("x-one"), "");
}

struct rejection {
  const char* name;
  std::string raw;
  errc code;
};

class HeadParserRejects : public ::testing::TestWithParam<rejection> {};

TEST_P(HeadParserRejects, WithTheRightCode) {
  const auto& c = GetParam();
  const auto o = parse(c.raw, head_limits{64, 64, 256, 4});
  EXPECT_EQ(o.state, parse_state::failed) << c.name;
  EXPECT_EQ(o.code, c.code) << c.name << " reason=" << o.reason;
}

const std::string h = "Host: a\r\n";
INSTANTIATE_TEST_SUITE_P(
    Smuggling, HeadParserRejects,
    ::testing::Values(
        rejection{"cl_then_te",
                  "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                  errc::bad_request},
        rejection{"te_then_cl",
                  "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                  errc::bad_request},
        rejection{"te_gzip_cl",
                  "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
                  errc::bad_request},
        rejection{"te_gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n",
                  errc::bad_request},
        rejection{"te_chunked_gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n",
                  errc::bad_request},
        rejection{
            "te_twice",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            errc::bad_request},
        rejection{"te_unknown", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: xchunked\r\n\r\n",
                  errc::not_implemented},
        rejection{"te_empty_element", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked,\r\n\r\n",
                  errc::bad_request},
        rejection{"te_http10", "POST / HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n",
                  errc::bad_request},
        rejection{"cl_twice_same",
                  "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n",
                  errc::bad_request},
        rejection{"cl_list", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3, 3\r\n\r\n", errc::bad_request},
        rejection{"cl_sign", "POST / HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\n", errc::bad_request},
        rejection{"cl_hex", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x3\r\n\r\n", errc::bad_request},
        rejection{"cl_overflow", "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n",
                  errc::bad_request},
        rejection{"obs_fold", "GET / HTTP/1.1\r\n" + h + "X-A: 1\r\n 2\r\n\r\n", errc::bad_request},
        rejection{"bare_lf", "GET / HTTP/1.1\n" + h + "\n", errc::bad_request},
        rejection{"bare_lf_field", "GET / HTTP/1.1\r\nHost: a\n\r\n", errc::bad_request},
        rejection{"bare_cr", "GET / HTTP/1.1\r\nX-A: 1\r2\r\n" + h + "\r\n", errc::bad_request},
        rejection{"nul_value", std::string("GET / HTTP/1.1\r\nX-A: 1\0 2\r\n", 27) + h + "\r\n",
                  errc::bad_request},
        rejection{"ctl_name", "GET / HTTP/1.1\r\nX\x01A: 1\r\n" + h + "\r\n", errc::bad_request},
        rejection{"empty_name", "GET / HTTP/1.1\r\n: x\r\n" + h + "\r\n", errc::bad_request},
        rejection{"space_before_colon", "GET / HTTP/1.1\r\nX-A : x\r\n" + h + "\r\n", errc::bad_request},
        rejection{"missing_host", "GET / HTTP/1.1\r\n\r\n", errc::bad_request},
        rejection{"duplicate_host", "GET / HTTP/1.1\r\n" + h + h + "\r\n", errc::bad_request},
        rejection{"empty_host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", errc::bad_request},
        rejection{"host_mismatch", "GET http://b/x HTTP/1.1\r\n" + h + "\r\n", errc::bad_request},
        rejection{"version_12", "GET / HTTP/1.2\r\n" + h + "\r\n", errc::bad_request},
        rejection{"version_20", "GET / HTTP/2.0\r\n" + h + "\r\n", errc::bad_request},
        rejection{"bad_method", "G(T / HTTP/1.1\r\n" + h + "\r\n", errc::bad_request},
        rejection{"double_space", "GET  / HTTP/1.1\r\n" + h + "\r\n", errc::bad_request},
        rejection{"relative_target", "GET a HTTP/1.1\r\n" + h + "\r\n", errc::bad_request},
        rejection{"request_line_too_long", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n" + h + "\r\n",
                  errc::uri_too_long},
        rejection{"field_too_long", "GET / HTTP/1.1\r\nX-A: " + std::string(100, 'a') + "\r\n" + h + "\r\n",
                  errc::headers_too_large},
        rejection{"too_many_fields", "GET / HTTP/1.1\r\n" + h + "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n",
                  errc::headers_too_large},
        rejection{"headers_too_large_partial",
                  "GET / HTTP/1.1\r\n" + std::string(8, 'X') + ": " + std::string(50, 'a') + "\r\n" +
                      std::string(8, 'Y') + ": " + std::string(50, 'a') + "\r\n" + std::string(8, 'Z') +
                      ": " + std::string(50, 'a') + "\r\n" + std::string(8, 'W') + ": " +
                      std::string(50, 'a') + "\r\n" + std::string(8, 'V') + ": " + std::string(50, 'a'),
                  errc::headers_too_large},
        rejection{"empty_request_line", "\r\nGET / HTTP/1.1\r\n" + h + "\r\n", errc::bad_request}),
    [](const ::testing::TestParamInfo<rejection>& p) { return std::string(p.param.name); });

TEST(HeadParser, AbsoluteFormBecomesOriginForm) {
  const auto o = parse("GET http://A/x?y HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(o.state, parse_state::complete) << o.reason;
  EXPECT_EQ(o.head.target, "/x?y");
}

TEST(HeadParser, OversizedLineIsRefusedBeforeItEnds) {
  head_scanner scanner(head_limits{64, 64, 256, 4}, true);
  EXPECT_EQ(scanner.scan("GET /" + std::string(200, 'a')), parse_state::failed);
  EXPECT_EQ(scanner.error().code, errc::uri_too_long);
}

TEST(HeadParser, Responses) {
  response_head r;
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  EXPECT_FALSE(parse_response_head(raw, {}, r));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.framing.content_length, 5u);
  raw = "HTTP/1.1 204\r\n\r\n";
  EXPECT_FALSE(parse_response_head(raw, {}, r));
  for (const std::string& bad : std::vector<std::string>{
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 099 OK\r\n\r\n", "HTTX/1.1 200 OK\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"})
    EXPECT_TRUE(parse_response_head(bad, {}, r)) << bad;
}

TEST(HeadParser, HopByHop) {
  for (const char* n : {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
                        "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
  EXPECT_FALSE(is_hop_by_hop("Authorization"));
  EXPECT_FALSE(is_hop_by_hop("Content-Length"));
}

}  // namespace
}  // namespace keygate::http

#include "keygate/auth/credential.hpp"

#include <gtest/gtest.h>

namespace keygate::auth {
namespace {

struct parsed {
  std::string raw;
  http::request_head head;
};

std::unique_ptr<parsed> request(const std::string& fields) {
  auto p = std::make_unique<parsed>();
  p->raw = "GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n";
  EXPECT_FALSE(http::parse_request_head(p->raw, {}, p->head));
  return p;
}

result<credential> extract(const std::string& fields) {
  static std::unique_ptr<parsed> keep;
  keep = request(fields);
  config::auth cfg;
  cfg.session_cookie = "kg_session";
  return extract_credential(keep->head, cfg);
}

TEST(Credential, BearerWinsAndIsCaseInsensitive) {
  auto c = extract("Authorization: bearer  abc\r\nX-API-Key: other\r\nCookie: kg_session=tok\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, credential_kind::api_key);
  EXPECT_EQ(c->value, "abc");
}

TEST(Credential, ApiKeyHeaderThenCookie) {
  auto c = extract("x-api-key: k1\r\nCookie: kg_session=tok\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, "k1");
  c = extract("Cookie: a=1; kg_session=tok; b=2\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, credential_kind::session);
  EXPECT_EQ(c->value, "tok");
}

TEST(Credential, NoneWhenAbsentOrForeignScheme) {
  EXPECT_EQ(extract("")->kind, credential_kind::none);
  EXPECT_EQ(extract("Authorization: Basic dXNlcjpwYXNz\r\n")->kind, credential_kind::none);
  EXPECT_EQ(extract("Proxy-Authorization: Bearer abc\r\n")->kind, credential_kind::none);
  EXPECT_EQ(extract("Cookie: other=1\r\n")->kind, credential_kind::none);
}

TEST(Credential, AmbiguityIsABadRequest) {
  EXPECT_EQ(extract("Authorization: Bearer a\r\nAuthorization: Bearer b\r\n").error(),
            make_error_code(errc::bad_request));
  EXPECT_EQ(extract("X-API-Key: a\r\nX-API-Key: b\r\n").error(), make_error_code(errc::bad_request));
  EXPECT_EQ(extract("Cookie: kg_session=a; kg_session=b\r\n").error(), make_error_code(errc::bad_request));
}

TEST(Credential, EmptyBearerIsInvalidAndDoesNotFallBack) {
  EXPECT_EQ(extract("Authorization: Bearer \r\nCookie: kg_session=tok\r\n").error(),
            make_error_code(errc::invalid_api_key));
}

}  // namespace
}  // namespace keygate::auth

// Malformed /cache/invalidate requests (SPEC §5): unparsable JSON → 400 bad_request, schema
// violations → 422 invalid_request, bodies over 64 KiB → 413, other methods → 405 + Allow: POST.
// None of them touches Redis (DBSIZE and every key of the namespace compared before/after) or the
// local cache (a key revoked behind keygate's back stays served from cache).
#include <gtest/gtest.h>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class InternalMalformed : public kc::cluster_suite {};

TEST_F(InternalMalformed, BadBodiesAre400Or422Or413AndChangeNothing) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto k = a.create_key("acme", "mia");
  const auto other = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(a.probe(other.secret), 200);
  ASSERT_EQ(a.probe(kc::fresh_key()), 401);  // a negative entry too
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"));

  const std::string h = k.hash();
  const std::string upper = [&] {
    std::string u = h;
    for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  struct bad {
    std::string label, body;
    int status;
    const char* code;
  };
  const std::vector<bad> cases{
      {"empty body", "", 400, "bad_request"},
      {"not JSON", "key_hash=" + h, 400, "bad_request"},
      {"truncated JSON", "{\"key_hash\": \"" + h + "\"", 400, "bad_request"},
      {"trailing garbage", "{\"key_hash\": \"" + h + "\"} x", 400, "bad_request"},
      {"single quotes", "{'key_hash': '" + h + "'}", 400, "bad_request"},
      {"invalid UTF-8", "{\"user_id\": \"mia\xff\xfe\"}", 400, "bad_request"},
      {"array", "[{\"key_hash\": \"" + h + "\"}]", 422, "invalid_request"},
      {"string", "\"" + h + "\"", 422, "invalid_request"},
      {"null", "null", 422, "invalid_request"},
      {"empty object", "{}", 422, "invalid_request"},
      {"number hash", "{\"key_hash\": 123}", 422, "invalid_request"},
      {"null hash", "{\"key_hash\": null}", 422, "invalid_request"},
      {"array hash", "{\"key_hash\": [\"" + h + "\"]}", 422, "invalid_request"},
      {"object key_id", "{\"key_id\": {\"id\": \"" + k.id + "\"}}", 422, "invalid_request"},
      {"bool tenant", "{\"tenant_id\": true}", 422, "invalid_request"},
      {"63 hex", "{\"key_hash\": \"" + h.substr(1) + "\"}", 422, "invalid_request"},
      {"65 hex", "{\"key_hash\": \"" + h + "a\"}", 422, "invalid_request"},
      {"uppercase hex", "{\"key_hash\": \"" + upper + "\"}", 422, "invalid_request"},
      {"non-hex 64", "{\"key_hash\": \"" + std::string(64, 'g') + "\"}", 422, "invalid_request"},
      {"hash with CRLF", "{\"key_hash\": \"" + h + "\\r\\n\"}", 422, "invalid_request"},
      {"wildcard hash", "{\"key_hash\": \"*\"}", 422, "invalid_request"},
      {"wildcard key_id", "{\"key_id\": \"*\"}", 422, "invalid_request"},
      {"wildcard key_id suffix", "{\"key_id\": \"key_*\"}", 422, "invalid_request"},
      {"wildcard session", "{\"session_id\": \"ses_*\"}", 422, "invalid_request"},
      {"wildcard user", "{\"user_id\": \"*\"}", 422, "invalid_request"},
      {"wildcard tenant", "{\"tenant_id\": \"*\"}", 422, "invalid_request"},
      {"glob tenant", "{\"tenant_id\": \"ac*\"}", 422, "invalid_request"},
      {"CRLF tenant", "{\"tenant_id\": \"acme\\r\\nX-Injected: 1\"}", 422, "invalid_request"},
      {"CRLF user (RESP injection)", "{\"user_id\": \"mia\\r\\nFLUSHALL\\r\\n\"}", 422, "invalid_request"},
      {"NUL user", "{\"user_id\": \"mia\\u0000\"}", 422, "invalid_request"},
      {"key_id with CRLF", "{\"key_id\": \"" + k.id + "\\r\\n\"}", 422, "invalid_request"},
      {"key_id of a session", "{\"key_id\": \"ses_" + k.id.substr(4) + "\"}", 422, "invalid_request"},
      {"empty user", "{\"user_id\": \"\"}", 422, "invalid_request"},
      {"two targets", "{\"key_hash\": \"" + h + "\", \"key_id\": \"" + k.id + "\"}", 422, "invalid_request"},
      {"three targets", "{\"user_id\": \"mia\", \"tenant_id\": \"acme\", \"key_id\": \"" + k.id + "\"}", 422,
       "invalid_request"},
      {"unknown field", "{\"key_hash\": \"" + h + "\", \"force\": true}", 422, "invalid_request"},
      {"only unknown field", "{\"hash\": \"" + h + "\"}", 422, "invalid_request"},
      {"duplicate key", "{\"key_hash\": \"" + h + "\", \"key_hash\": \"" + other.hash() + "\"}", 422,
       "invalid_request"},
      {"case-variant field", "{\"Key_Hash\": \"" + h + "\"}", 422, "invalid_request"},
      {"long user id", "{\"user_id\": \"" + std::string(60 * 1024, 'a') + "\"}", 422, "invalid_request"},
  };

  resp_client rc(redis_port(redis_url()));
  const auto size_before = rc.dbsize();
  const auto before = rc.dump(ns());
  ASSERT_GE(before.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const auto r = a.invalidate_as(kc::svc(), c.body);
    EXPECT_TRUE(is_json_error(r, c.status, {c.code})) << r.describe();
    EXPECT_EQ(r.header("X-Content-Type-Options").value_or(""), "nosniff");
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store");
  }

  // Bodies over the 64 KiB cap: the declared length alone is refused (only the first KiB is sent,
  // so the 413 cannot be lost to a reset caused by unread bytes).
  const std::string auth_line = "Authorization: Bearer " + std::string(kc::service_token) + "\r\n";
  for (const std::uint64_t n :
       {std::uint64_t(64 * 1024 + 1), std::uint64_t(1024 * 1024), std::uint64_t(10000000000)}) {
    SCOPED_TRACE("Content-Length " + std::to_string(n));
    const std::string head = "POST /cache/invalidate HTTP/1.1\r\nHost: x\r\n" + auth_line +
                             "Content-Type: application/json\r\nContent-Length: " + std::to_string(n) +
                             "\r\n\r\n";
    auto ex = exchange_raw(a.internal_port(), head + "{\"user_id\": \"" + std::string(1024, 'a'), 5s, 0, 0ms,
                           "POST");
    ASSERT_FALSE(ex.responses.empty()) << "no response";
    EXPECT_EQ(ex.responses.front().status(), 413) << ex.responses.front().describe();
  }
  {
    SCOPED_TRACE("chunked body over the cap");
    const std::string head = "POST /cache/invalidate HTTP/1.1\r\nHost: x\r\n" + auth_line +
                             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk(32 * 1024, ' ');
    std::string raw = head;
    for (int i = 0; i < 3; ++i) raw += "8000\r\n" + chunk + "\r\n";
    auto ex = exchange_raw(a.internal_port(), raw, 5s, 0, 0ms, "POST");
    ASSERT_FALSE(ex.responses.empty()) << "no response";
    EXPECT_EQ(ex.responses.front().status(), 413) << ex.responses.front().describe();
  }

  EXPECT_EQ(rc.dbsize(), size_before) << "DBSIZE changed";
  EXPECT_EQ(rc.dump(ns()), before) << "a malformed request changed Redis";
  EXPECT_EQ(a.probe(k.secret), 200) << "a malformed request purged the local cache";

  // Control: the well-formed request does purge.
  const auto ok = a.invalidate({{"key_hash", h}});
  ASSERT_EQ(ok.status(), 200) << ok.describe();
  EXPECT_EQ(a.probe(k.secret), 401);
}

// A schema-valid body from an unauthenticated caller is 401; an invalid body is rejected before
// anything else happens either way (no Redis or store work for garbage).
TEST_F(InternalMalformed, MethodsOtherThanPostAre405WithAllow) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  for (const char* m : {"GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    SCOPED_TRACE(m);
    http_client c(a.internal_port());
    const auto r =
        c.request(m, "/cache/invalidate", kc::svc(), std::string(m) == "PUT" ? "{\"user_id\":\"mia\"}" : "");
    EXPECT_EQ(r.status(), 405) << r.describe();
    EXPECT_EQ(r.header("Allow").value_or(""), "POST") << r.describe();
  }
}

// The other JSON endpoints are strict too: unknown fields, duplicates and wrong types are 422,
// unparsable bodies 400, oversized bodies 413 — and no key is created by any of them.
TEST_F(InternalMalformed, KeyAndSessionBodiesAreStrict) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto count = [&] { return db().scalar("SELECT count(*) FROM api_keys WHERE name = 'strict-probe'"); };
  const auto before = count();
  struct bad {
    std::string target, body;
    int status;
  };
  const std::vector<bad> cases{
      {"/v1/keys", "{", 400},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":"strict-probe","admin":true})", 422},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":"strict-probe","name":"x"})", 422},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":7})", 422},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":"strict-probe","scopes":"read"})", 422},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":"strict-probe","role":"root"})", 422},
      {"/v1/keys", R"({"tenant_id":"acme","user_id":"mia","name":"strict-probe","expires_at":"tomorrow"})",
       422},
      {"/v1/sessions", R"({"user_id":"mia","ttl_seconds":-5})", 422},
      {"/v1/sessions", R"({"user_id":"mia","ttl_seconds":"60"})", 422},
      {"/v1/sessions", R"({"user_id":"mia","ttl_seconds":60,"tenant_id":"acme"})", 422},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target + " " + c.body.substr(0, 100));
    const auto r = a.api("POST", c.target, kc::svc(), c.body);
    EXPECT_EQ(r.status(), c.status) << r.describe();
  }
  auto ex = exchange_raw(a.internal_port(),
                         "POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             std::string(kc::service_token) +
                             "\r\nContent-Length: 70000\r\n\r\n{\"name\": \"strict-probe\"",
                         5s, 0, 0ms, "POST");
  ASSERT_FALSE(ex.responses.empty());
  EXPECT_EQ(ex.responses.front().status(), 413) << ex.responses.front().describe();
  EXPECT_EQ(count(), before);
}

}  // namespace
}  // namespace keygate::itest

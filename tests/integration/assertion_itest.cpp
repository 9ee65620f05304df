// X-Keygate-Assertion end to end (SPEC §4, issue 6 item 3): the real binary with auth.assertion
// and a Postgres store; the recording upstream's X-Keygate-Assertion verifies against
// GET /.well-known/jwks.json (internal listener) with OpenSSL, carries the request's identity,
// and a tampered copy fails. A spoofed inbound X-Keygate-Assertion never reaches the upstream.
// Skipped when KEYGATE_TEST_PG_URL is unset.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/support/gateway.hpp"
#include "integration/support/http_client.hpp"
#include "integration/support/process.hpp"
#include "integration/support/proxy_helpers.hpp"
#include "integration/support/recording_upstream.hpp"
#include "keygate/auth/assertion.hpp"
#include "support/jws_verify.hpp"
#include "support/pg_test_db.hpp"

namespace keygate::itest {
namespace {

std::string p_pem(const char* curve) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve),
                                                          EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(n)};
}

struct created {
  std::string id, secret;
};

// One migrated database for the suite: tenant acme with user alice (member).
class Assertion : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto url = test::test_pg_url();
    if (!url) return;
    db_ = std::make_unique<test::temp_database>(*url);
    dir_ = std::make_unique<temp_dir>();
    if (!db_->ok()) return;
    cli_config_ =
        dir_->write("cli.yaml", "store:\n  postgres: {url: \"" + db_->url() +
                                    "\", pool_size: 2, query_timeout: 5s}\n"
                                    "auth:\n  key_prefixes: [kg_live]\n"
                                    "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
                                    "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n");
    ready_ =
        cli({"migrate"}).exit_code == 0 &&
        cli({"tenants", "create", "--id", "acme", "--name", "Acme", "--api-access", "true"}).exit_code == 0 &&
        cli({"users", "create", "--tenant", "acme", "--id", "alice", "--role", "member"}).exit_code == 0;
  }
  static void TearDownTestSuite() {
    db_.reset();
    dir_.reset();
  }
  void SetUp() override {
    if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
    ASSERT_TRUE(ready_) << "suite setup (migrate, tenant, user) failed";
  }

  static run_result cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--config", cli_config_});
    return run_keygate(args);
  }
  static created json_created(std::vector<std::string> args) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j.contains("secret")) {
      ADD_FAILURE() << "no {id, secret} in: " << r.out;
      return {};
    }
    return {j["id"].get<std::string>(), j["secret"].get<std::string>()};
  }
  static created key(const std::string& scopes) {
    return json_created({"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "assertion-itest",
                         "--scopes", scopes, "--json"});
  }
  static created session() {
    return json_created({"sessions", "create", "--user", "alice", "--ttl", "1h", "--json"});
  }

  // The gateway config: upstream app, /open without auth, everything else required.
  static gateway_config config(const recording_upstream& up, const std::string& assertion) {
    gateway_config cfg;
    cfg.upstream("app", up.url());
    cfg.store_postgres(db_->url(), {{"pool_size", "2"}, {"query_timeout", "2s"}});
    cfg.auth("key_prefixes", "[kg_live]");
    if (!assertion.empty()) cfg.auth("assertion", assertion);
    cfg.route("{match: {prefix: /open}, upstream: app, auth: none}");
    cfg.route("{match: {prefix: /}, upstream: app, auth: required}");
    return cfg;
  }

  static std::unique_ptr<test::temp_database> db_;
  static std::unique_ptr<temp_dir> dir_;
  static std::string cli_config_;
  static bool ready_;
};
std::unique_ptr<test::temp_database> Assertion::db_;
std::unique_ptr<temp_dir> Assertion::dir_;
std::string Assertion::cli_config_;
bool Assertion::ready_ = false;

std::vector<std::string> assertion_headers(const recorded_request& r) {
  std::vector<std::string> out;
  for (const auto& h : r.head.headers)
    if (lower(h.name) == "x-keygate-assertion" || lower(h.name) == "x_keygate_assertion")
      out.push_back(h.value);
  return out;
}

long long now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
TEST_F(Assertion, UpstreamVerifiesTheAssertionWithTheJwks) {
  const auto pem = p_pem("P-256");
  ASSERT_FALSE(pem.empty());
  const auto key_file = dir_->write("assert-" + std::to_string(::getpid()) + ".pem", pem);
  const auto k = key("read,write");
  ASSERT_FALSE(HasFailure());

  recording_upstream up;
  gateway gw(config(up, "{signing_key_file: \"" + key_file + "\", audience: orders-api, ttl: 30s}"));
  ASSERT_TRUE(gw.started());

  // The JWKS: public members only, served with a short max-age; kid = the key's thumbprint.
  const auto jwks_res = internal_get(gw, "/.well-known/jwks.json");
  ASSERT_EQ(jwks_res.status(), 200) << jwks_res.describe();
  EXPECT_NE(jwks_res.header("Content-Type").value_or("").find("application/json"), std::string::npos);
  EXPECT_EQ(jwks_res.header("Cache-Control").value_or(""), "max-age=300");
  const auto jwks = nlohmann::json::parse(jwks_res.body);
  ASSERT_EQ(jwks["keys"].size(), 1u) << jwks_res.body;
  EXPECT_FALSE(jwks["keys"][0].contains("d"));
  EXPECT_EQ(jwks["keys"][0]["kid"],
            auth::assertion_signer::from_pem(pem, "x", std::chrono::seconds(1)).kid());

  http_client c(gw.port());
  const long long before = now_s();
  auto r = c.request("GET", "/orders/7",
                     {{"Authorization", "Bearer " + k.secret}, {"X-Keygate-Assertion", "forged.jwt.value"}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  const auto got = assertion_headers(up.requests()[0]);
  ASSERT_EQ(got.size(), 1u) << "exactly keygate's own assertion reaches the upstream";
  const auto& token = got[0];
  EXPECT_NE(token, "forged.jwt.value");

  const auto v = test::verify_es256(token, jwks);
  ASSERT_TRUE(v.ok) << v.why << ": " << token;
  EXPECT_EQ(v.header["alg"], "ES256");
  EXPECT_EQ(v.header["kid"], jwks["keys"][0]["kid"]);
  const auto& cl = v.claims;
  EXPECT_EQ(cl["iss"], "keygate");
  EXPECT_EQ(cl["aud"], "orders-api");
  EXPECT_EQ(cl["sub"], "alice");
  EXPECT_EQ(cl["tenant"], "acme");
  EXPECT_EQ(cl["key_id"], k.id);
  EXPECT_FALSE(cl.contains("session_id"));
  EXPECT_EQ(cl["auth_method"], "api_key");
  EXPECT_EQ(cl["scopes"], (nlohmann::json{"read", "write"}));
  const auto iat = cl["iat"].get<long long>();
  EXPECT_GE(iat, before - 1);
  EXPECT_LE(iat, now_s() + 1);
  EXPECT_EQ(cl["exp"].get<long long>(), iat + 30);
  EXPECT_EQ(cl["jti"].get<std::string>().size(), 22u);
  // The assertion restates the plain identity headers.
  EXPECT_EQ(up.requests()[0].header("X-Keygate-Key-Id").value_or(""), k.id);

  // Tampered: another subject re-encoded into the payload, and a flipped signature bit.
  auto claims = cl;
  claims["sub"] = "mallory";
  const auto d1 = token.find('.'), d2 = token.rfind('.');
  const auto forged_payload =
      token.substr(0, d1 + 1) + auth::base64url_encode(claims.dump()) + token.substr(d2);
  EXPECT_FALSE(test::verify_es256(forged_payload, jwks).ok);
  auto flipped = token;
  flipped[d2 + 5] = flipped[d2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(test::verify_es256(flipped, jwks).ok);

  // A second request gets a fresh token (new jti) that verifies too (cache hit path).
  ASSERT_EQ(c.request("GET", "/orders/8", {{"X-API-Key", k.secret}}).status(), 200);
  ASSERT_EQ(up.request_count(), 2u);
  const auto second = assertion_headers(up.requests()[1]);
  ASSERT_EQ(second.size(), 1u);
  const auto v2 = test::verify_es256(second[0], jwks);
  ASSERT_TRUE(v2.ok) << v2.why;
  EXPECT_NE(v2.claims["jti"], cl["jti"]);
}

// Key rotation: replace the key file and send SIGHUP. Requests are then signed with the new key,
// the JWKS lists the new and the replaced key (tokens signed before the switch still verify), an
// unusable key file on a later reload is rejected and signing goes on with the current key.
TEST_F(Assertion, SighupWithANewKeyFileRotatesTheSigningKey) {
  const auto pem_a = p_pem("P-256"), pem_b = p_pem("P-256");
  ASSERT_FALSE(pem_a.empty() || pem_b.empty());
  const auto kid_a = auth::assertion_signer::from_pem(pem_a, "x", std::chrono::seconds(1)).kid();
  const auto kid_b = auth::assertion_signer::from_pem(pem_b, "x", std::chrono::seconds(1)).kid();
  const auto key_file = dir_->write("rotate-" + std::to_string(::getpid()) + ".pem", pem_a);
  const auto k = key("read");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  const auto cfg = config(up, "{signing_key_file: \"" + key_file + "\", audience: orders-api, ttl: 30s}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto kid_of_next_request = [&]() -> std::string {
    const auto before = up.request_count();
    const auto r = c.request("GET", "/orders/1", {{"X-API-Key", k.secret}});
    if (r.status() != 200 || up.request_count() != before + 1) return "status " + std::to_string(r.status());
    const auto got = assertion_headers(up.requests()[before]);
    if (got.size() != 1) return "no assertion";
    const auto jwks = nlohmann::json::parse(internal_get(gw, "/.well-known/jwks.json").body);
    const auto v = test::verify_es256(got[0], jwks);
    return v.ok ? v.header["kid"].get<std::string>() : "unverifiable: " + v.why;
  };
  ASSERT_EQ(kid_of_next_request(), kid_a);
  const auto old_token = assertion_headers(up.requests().back())[0];

  dir_->write("rotate-" + std::to_string(::getpid()) + ".pem", pem_b);
  gw.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return kid_of_next_request() == kid_b; }, 5s)) << kid_of_next_request();
  const auto jwks = nlohmann::json::parse(internal_get(gw, "/.well-known/jwks.json").body);
  ASSERT_EQ(jwks["keys"].size(), 2u) << jwks.dump();
  EXPECT_EQ(jwks["keys"][0]["kid"], kid_b);
  EXPECT_EQ(jwks["keys"][1]["kid"], kid_a);
  EXPECT_TRUE(test::verify_es256(old_token, jwks).ok)
      << "a token signed before the rotation must still verify";

  // A reload without changes keeps the key (and the JWKS); one with a broken key file is refused.
  const auto unchanged_from = gw.log_size();
  gw.signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] { return gw.log().find("configuration reloaded", unchanged_from) != std::string::npos; }, 5s));
  EXPECT_EQ(nlohmann::json::parse(internal_get(gw, "/.well-known/jwks.json").body), jwks);
  EXPECT_EQ(kid_of_next_request(), kid_b);
  dir_->write("rotate-" + std::to_string(::getpid()) + ".pem", "not a key");
  const auto from = gw.log_size();
  gw.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return gw.log().find("reload rejected", from) != std::string::npos; }, 5s))
      << gw.log().substr(from);
  EXPECT_EQ(kid_of_next_request(), kid_b);
  EXPECT_TRUE(gw.running());
}

TEST_F(Assertion, SessionAssertionCarriesTheSessionId) {
  const auto s = session();
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  // No signing_key_file: keygate generates a key and warns that the JWKS changes per restart.
  gateway gw(config(up, "{audience: web, ttl: 5s}"));
  ASSERT_TRUE(gw.started());
  EXPECT_TRUE(gw.wait_for_log("generated an ephemeral EC P-256 key", std::chrono::seconds(5)));

  http_client c(gw.port());
  auto r = c.request("GET", "/me", {{"Cookie", "keygate_session=" + s.secret}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  const auto got = assertion_headers(up.requests()[0]);
  ASSERT_EQ(got.size(), 1u);
  const auto v =
      test::verify_es256(got[0], nlohmann::json::parse(internal_get(gw, "/.well-known/jwks.json").body));
  ASSERT_TRUE(v.ok) << v.why;
  EXPECT_EQ(v.claims["session_id"], s.id);
  EXPECT_FALSE(v.claims.contains("key_id"));
  EXPECT_EQ(v.claims["auth_method"], "session");
  EXPECT_EQ(v.claims["aud"], "web");
  EXPECT_EQ(v.claims["exp"].get<long long>() - v.claims["iat"].get<long long>(), 5);
  // The log never contains the token (nor the session secret).
  EXPECT_EQ(gw.log().find(got[0]), std::string::npos);
  EXPECT_EQ(gw.log().find(s.secret), std::string::npos);
}

TEST_F(Assertion, SpoofedAssertionNeverReachesTheUpstream) {
  recording_upstream up;
  gateway gw(config(up, "{audience: orders-api}"));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  // An unauthenticated route: no assertion is minted, and the client's own is stripped in any
  // spelling.
  auto r = c.request("GET", "/open/x",
                     {{"X-Keygate-Assertion", "forged.a.b"},
                      {"x-keygate-assertion", "forged.c.d"},
                      {"X_Keygate_Assertion", "forged.e.f"},
                      {"Connection", "X-Keygate-Assertion"}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_TRUE(assertion_headers(up.requests()[0]).empty());
  for (const auto& h : up.requests()[0].head.headers)
    EXPECT_EQ(h.value.find("forged"), std::string::npos) << h.name;
  // A denied request reaches nothing.
  EXPECT_EQ(c.request("GET", "/x", {{"X-Keygate-Assertion", "forged.g.h"}}).status(), 401);
  EXPECT_EQ(up.request_count(), 1u);
}

TEST_F(Assertion, OffByDefaultJwksIs404AndNoAssertionIsSent) {
  const auto k = key("read");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up, ""));
  ASSERT_TRUE(gw.started());
  EXPECT_EQ(internal_get(gw, "/.well-known/jwks.json").status(), 404);
  http_client c(gw.port());
  auto r = c.request("GET", "/a",
                     {{"Authorization", "Bearer " + k.secret}, {"X-Keygate-Assertion", "forged.x.y"}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_TRUE(assertion_headers(up.requests()[0]).empty());
  EXPECT_EQ(up.requests()[0].header("X-Keygate-Key-Id").value_or(""), k.id);
}

TEST_F(Assertion, WrongCurveKeyRefusesToStart) {
  const auto key_file = dir_->write("p384-" + std::to_string(::getpid()) + ".pem", p_pem("P-384"));
  recording_upstream up;
  temp_dir d;
  const auto cfg_path = d.write(
      "keygate.yaml",
      config(up, "{signing_key_file: \"" + key_file + "\", audience: a}").render(free_port(), free_port()));
  const auto r = run_keygate({"serve", "--config", cfg_path}, {}, std::chrono::seconds(20));
  EXPECT_NE(r.exit_code, 0);
  const auto text = r.out + r.err;
  EXPECT_NE(text.find("P-256"), std::string::npos) << text;
  EXPECT_NE(text.find(key_file), std::string::npos) << text;
  EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos) << "key material in the output";
}

}  // namespace
}  // namespace keygate::itest

// Guarantee 7 (SPEC §3, §6): a credential that fails the prefix, length, alphabet or checksum test
// is rejected before any cache, Redis or Postgres access. 1,000 malformed keys and tokens → 1,000
// × 401 and zero Redis commands (INFO commandstats of a private Redis) and zero Postgres
// statements (pg_stat_statements of the test database).
#include <random>

#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthMalformed : public auth_db_suite {};

// A malformed variant of a valid key (printable ASCII, so it is a legal header value).
std::string malformed(std::size_t i, std::mt19937& rng) {
  const std::string valid = auth::generate_key("kg_live");  // kg_live_ + 32 + 6
  const std::string alphabet(auth::base62_alphabet);
  std::string k = valid;
  switch (i % 12) {
    case 0: {  // wrong checksum
      char& last = k.back();
      last = last == 'a' ? 'b' : 'a';
      break;
    }
    case 1: {  // an entropy character changed (checksum no longer matches)
      char& ch = k[8 + rng() % 32];
      ch = alphabet[(alphabet.find(ch) + 1 + rng() % 60) % 62];
      break;
    }
    case 2:
      k.pop_back();
      break;  // too short
    case 3:
      k += alphabet[rng() % 62];
      break;  // too long
    case 4:
      k[8 + rng() % 38] = "-_.~+/="[rng() % 7];
      break;  // outside base62
    case 5:
      k = "kg_prod_" + valid.substr(8);
      break;  // unknown prefix
    case 6:
      k = "KG_LIVE_" + valid.substr(8);
      break;  // prefix is lowercase
    case 7:
      k = "kg_live" + valid.substr(7 + 1);
      break;  // no separator
    case 8:
      k = "kg_live_";
      break;  // no body
    case 9:
      k = valid.substr(0, 20) + " " + valid.substr(21);
      break;  // space inside
    case 10:
      k = std::string(1 + rng() % 80, alphabet[rng() % 62]);
      break;  // junk
    default:
      k = "kg_test_" + valid.substr(8);
      break;  // valid body, checksum computed for kg_live
  }
  return k;
}

TEST_F(AuthMalformed, ThousandMalformedCredentialsCostNoRedisOrPostgres) {
  private_redis redis;
  ASSERT_TRUE(redis.ok()) << "could not start a private Redis";
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}")
      .cache_redis(redis.url(), unique_namespace(), "200ms");
  // The key created below is announced by the store's change feed, whose re-read would land in
  // the counts at an unpredictable moment; this test counts request traffic only.
  cfg.postgres_settings["listen_notify"] = "false";
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());

  // Warm-up: one valid request, so connections (Postgres pool, Redis probe) exist before counting.
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  {
    http_client c(gw.port());
    ASSERT_EQ(c.request("GET", "/warm", bearer(key.secret)).status(), 200);
  }
  resp_client rc(redis.port());
  ASSERT_TRUE(rc.connected());
  const auto redis_before = rc.commandstats();
  const auto pg_before = db().statement_calls("");
  const auto lookups_before = db().key_lookups();
  ASSERT_TRUE(pg_before && lookups_before);
  const auto m_before = metrics_text(gw);

  std::mt19937 rng(20240601);
  std::size_t refused = 0;
  std::vector<std::string> failures;
  auto c = std::make_unique<http_client>(gw.port());
  for (std::size_t i = 0; i < 1000; ++i) {
    header_list h;
    std::string expected = "invalid_api_key";
    if (i % 10 == 9) {  // a malformed session token in the cookie
      const std::string tok = auth::generate_session_token();
      const std::string bad = i % 20 == 9 ? tok.substr(0, tok.size() - 1) : "kgs_" + std::string(43, '-');
      h = {{"Cookie", "keygate_session=" + bad}};
      expected = "invalid_session";
    } else if (i % 2) {
      h = bearer(malformed(i, rng));
    } else {
      h = {{"X-API-Key", malformed(i, rng)}};
    }
    auto r = c->request("GET", "/m", h);
    if (is_401(r, expected.c_str()))
      ++refused;
    else if (failures.size() < 5)
      failures.push_back(h[0].value + " → " + r.describe());
    if (!r.complete || says_close(r)) c = std::make_unique<http_client>(gw.port());
  }
  EXPECT_EQ(refused, 1000u) << "first failures:\n"
                            << [&] {
                                 std::string s;
                                 for (const auto& f : failures) s += "  " + f + "\n";
                                 return s;
                               }();
  EXPECT_EQ(up.request_count(), 1u);

  // Zero Redis commands (probes and INFO itself excluded), zero Postgres statements.
  const auto redis_after = rc.commandstats();
  EXPECT_EQ(traffic_calls(redis_after), traffic_calls(redis_before)) << [&] {
    std::string s;
    for (const auto& [k, v] : redis_after) s += k + "=" + std::to_string(v) + " ";
    return s;
  }();
  EXPECT_EQ(*db().key_lookups(), *lookups_before);
  EXPECT_EQ(*db().statement_calls(""), *pg_before) << "Postgres statements ran for malformed credentials";
  // And no cache tier was consulted at all.
  const auto m_after = metrics_text(gw);
  for (const char* tier : {"local", "redis", "postgres"})
    EXPECT_EQ(metric_sum(m_after, "keygate_cache_lookups_total", {{"tier", tier}}),
              metric_sum(m_before, "keygate_cache_lookups_total", {{"tier", tier}}))
        << tier;
}

}  // namespace
}  // namespace keygate::itest

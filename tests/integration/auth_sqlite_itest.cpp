// The data plane on the embedded SQLite store while the CLI, another process, changes the file.
// With no Redis, the local TTL is how such changes reach a running gateway. While nothing was
// committed, an expired local entry is made fresh again without a store read (the store counts
// commits with PRAGMA data_version); once something was, the entry is read again, so a revoke
// or a new key shows within cache.local.ttl plus the 100 ms renew window. Needs no service.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "integration/support/auth_env.hpp"
#include "integration/support/process.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {
using namespace std::chrono_literals;

class AuthSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_config_ =
        dir_.write("cli.yaml", "store:\n  sqlite: {path: \"" + db_path() +
                                   "\"}\nauth:\n  key_prefixes: [{prefix: kg_live}]\n"
                                   "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
                                   "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n");
    ASSERT_EQ(kg({"migrate"}).exit_code, 0);
    ASSERT_EQ(kg({"tenants", "create", "--id", "acme", "--name", "Acme"}).exit_code, 0);
    ASSERT_EQ(kg({"users", "create", "--tenant", "acme", "--id", "alice", "--role", "admin"}).exit_code, 0);
  }
  std::string db_path() const { return dir_.path() + "/keygate.db"; }
  run_result kg(std::vector<std::string> args) const {
    args.push_back("--config");
    args.push_back(cli_config_);
    return run_keygate(args);
  }
  gateway_config serving_config(const recording_upstream& up) const {
    gateway_config cfg;
    cfg.upstream("app", up.url()).route("{match: {prefix: /}, upstream: app, auth: required}");
    cfg.store_sqlite(db_path());
    cfg.auth("key_prefixes", "[kg_live]");
    cfg.cache_local("ttl", "300ms");
    return cfg;
  }
  // Requests with `key` every 20 ms until the status is `status`; false after `limit`.
  static bool until_status(http_client& c, const std::string& key, int status, millis limit) {
    const auto give_up = steady::now() + limit;
    while (steady::now() < give_up) {
      if (c.request("GET", "/poll", bearer(key)).status() == status) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  temp_dir dir_;
  std::string cli_config_;
};

TEST_F(AuthSqlite, UnchangedStoreRenewsEntriesAndCliChangesShowWithinTheLocalTtl) {
  auto created = kg({"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "k"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string key = created.out.substr(0, created.out.find('\n'));
  const std::string id =
      nlohmann::json::parse(kg({"keys", "list", "--tenant", "acme", "--json"}).out).at(0).at("id");
  const std::string later_key = unknown_key("kg_live");  // imported by the CLI further down

  recording_upstream up(handlers::echo(true));
  gateway gw(serving_config(up));
  ASSERT_TRUE(gw.started()) << gw.log();
  http_client c(gw.port());
  const auto store_reads = [&](const char* outcome) {
    return metric(gw, "keygate_cache_lookups_total", {{"tier", "postgres"}, {"outcome", outcome}});
  };

  const auto keep_using_both = [&](millis how_long) {
    const auto until = steady::now() + how_long;
    while (steady::now() < until) {
      ASSERT_EQ(c.request("GET", "/a", bearer(key)).status(), 200);
      ASSERT_TRUE(is_401(c.request("GET", "/b", bearer(later_key)), "invalid_api_key"));
      std::this_thread::sleep_for(50ms);
    }
  };
  // The gateway writes the key's first use to last_used_at within a second: its own commit,
  // which no cache entry depends on, so it sends neither entry back to the store. Both entries
  // expire ten times over while nothing else is committed: neither is read again.
  keep_using_both(3000ms);
  EXPECT_EQ(store_reads("hit"), 1) << "an unchanged store was read again";
  EXPECT_EQ(store_reads("negative"), 1) << "an unchanged store was read again";
  EXPECT_GE(metric(gw, "keygate_cache_lookups_total", {{"tier", "local"}, {"outcome", "hit"}}), 50);
  const auto shown = nlohmann::json::parse(kg({"keys", "show", id, "--json"}).out);
  EXPECT_FALSE(shown.value("last_used_at", nlohmann::json()).is_null()) << shown.dump();
  const double hits = store_reads("hit");

  // The CLI revokes the key: seen within the local TTL (300 ms) + 100 ms, never kept.
  ASSERT_EQ(kg({"keys", "revoke", id}).exit_code, 0);
  EXPECT_TRUE(until_status(c, key, 401, 3s)) << "the revoked key is still admitted";
  EXPECT_TRUE(is_401(c.request("GET", "/e", bearer(key)), "key_revoked"));

  // A key whose hash was cached as unknown is imported: admitted once the negative entry is
  // read again.
  const auto map = dir_.write("later.map", sha256_hex(later_key) + " later\n");
  ASSERT_EQ(
      kg({"keys", "import", "--file", map, "--tenant", "acme", "--user", "alice", "--prefix", "kg_live"})
          .exit_code,
      0);
  EXPECT_TRUE(until_status(c, later_key, 200, 3s)) << "the imported key is still unknown";
  EXPECT_GT(store_reads("hit"), hits);
}

}  // namespace
}  // namespace keygate::itest

// The store CLI as a process: migrate (twice, --status), tenants/users/keys/sessions, output
// channels (secret alone on stdout), exit codes 0/1/2, a stopped and a frozen Postgres, and no
// secret anywhere but the one creation output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/support/process.hpp"
#include "support/pg_test_db.hpp"

namespace keygate::itest {
namespace {
using namespace std::chrono_literals;

std::string config_for(const temp_dir& dir, const std::string& url, const std::string& timeout = "500ms") {
  return dir.write("keygate.yaml",
                   "store:\n  postgres: {url: \"" + url + "\", pool_size: 2, query_timeout: " + timeout +
                       "}\nauth:\n  key_prefixes: [{prefix: kg_live}, {prefix: wm, checksum: false}]\n"
                       "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
                       "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n");
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(CliStore, LifecycleOutputsAndExitCodes) {
  auto admin = test::test_pg_url();
  if (!admin) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  test::temp_database db(*admin);
  ASSERT_TRUE(db.ok());
  temp_dir dir;
  const auto cfg = config_for(dir, db.url());
  std::string all_logs;
  auto kg = [&](std::vector<std::string> args) {
    args.insert(args.begin() + (args.size() > 1 && args[0] != "migrate" ? 2 : 1), {"--config", cfg});
    auto r = run_keygate(args);
    all_logs += r.err;
    return r;
  };

  auto m1 = kg({"migrate"});
  ASSERT_EQ(m1.exit_code, 0) << m1.err;
  auto m2 = kg({"migrate"});
  EXPECT_EQ(m2.exit_code, 0) << m2.err;
  EXPECT_NE(m2.err.find("up to date"), std::string::npos);
  auto st = run_keygate({"migrate", "--status"}, {{"KEYGATE_CONFIG", cfg}});
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_NE(st.out.find("0001  initial  applied"), std::string::npos) << st.out;

  ASSERT_EQ(kg({"tenants", "create", "--id", "acme", "--name", "Acme"}).exit_code, 0);
  ASSERT_EQ(kg({"users", "create", "--tenant", "acme", "--id", "alice", "--role", "admin"}).exit_code, 0);
  auto created = kg({"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "ci", "--scopes",
                     "read,write", "--expires-in", "30d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto secret = trim(created.out);
  EXPECT_EQ(secret.rfind("kg_live_", 0), 0u);
  EXPECT_EQ(secret.size(), 46u);
  EXPECT_EQ(created.out, secret + "\n");  // the secret alone

  auto js = kg({"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "j", "--json"});
  ASSERT_EQ(js.exit_code, 0);
  const auto j = nlohmann::json::parse(js.out);
  const std::string id = j.at("id"), secret2 = j.at("secret");
  EXPECT_EQ(id.rfind("key_", 0), 0u);

  auto list = kg({"keys", "list", "--tenant", "acme", "--json"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 2u);
  EXPECT_EQ(list.out.find("key_hash"), std::string::npos);
  auto show = kg({"keys", "show", id, "--json"});
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(show.out).at("status"), "active");

  auto rot = kg({"keys", "rotate", id, "--grace", "1h", "--json"});
  ASSERT_EQ(rot.exit_code, 0) << rot.err;
  const std::string secret3 = nlohmann::json::parse(rot.out).at("secret");
  EXPECT_EQ(kg({"keys", "disable", id}).exit_code, 0);
  EXPECT_EQ(kg({"keys", "enable", id}).exit_code, 0);
  EXPECT_EQ(kg({"keys", "revoke", id}).exit_code, 0);
  auto reenable = kg({"keys", "enable", id});
  EXPECT_EQ(reenable.exit_code, 1);
  EXPECT_NE(reenable.err.find("revoked"), std::string::npos);

  auto ses = kg({"sessions", "create", "--user", "alice", "--json"});
  ASSERT_EQ(ses.exit_code, 0) << ses.err;
  const auto sj = nlohmann::json::parse(ses.out);
  const std::string session_token = sj.at("secret");
  EXPECT_EQ(kg({"sessions", "revoke", sj.at("id").get<std::string>()}).exit_code, 0);

  // Import: bad line and duplicate abort everything.
  const auto good = dir.write(
      "good.map", "# comment\n\n" + std::string(64, 'a') + " one\n" + std::string(64, 'b') + " two\n");
  EXPECT_EQ(kg({"keys", "import", "--file", good, "--tenant", "acme", "--user", "alice", "--prefix", "wm"})
                .exit_code,
            0);
  const auto bad = dir.write("bad.map", std::string(64, 'c') + " three\nnot-a-hash four\n");
  auto badr = kg({"keys", "import", "--file", bad, "--tenant", "acme", "--user", "alice", "--prefix", "wm"});
  EXPECT_EQ(badr.exit_code, 1);
  EXPECT_NE(badr.err.find("line 2"), std::string::npos) << badr.err;
  auto dup = kg({"keys", "import", "--sha256", std::string(64, 'a'), "--name", "again", "--tenant", "acme",
                 "--user", "alice", "--prefix", "wm"});
  EXPECT_EQ(dup.exit_code, 1);
  auto after = kg({"keys", "list", "--tenant", "acme", "--json"});
  EXPECT_EQ(nlohmann::json::parse(after.out).size(), 5u);  // 2 created + 1 rotated + 2 imported

  // Validation errors: exit 1, one line, nothing written.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"keys", "create", "--tenant", "ac me", "--user", "alice", "--name", "x"},
           {"keys", "create", "--tenant", "acme", "--user", "nobody", "--name", "x"},
           {"keys", "create", "--tenant", "acme", "--user", "alice", "--name", std::string(200, 'n')},
           {"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "x", "--scopes", "a b"},
           {"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "x", "--scopes", "a\x01"},
           {"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "x", "--expires-at",
            "2001-01-01T00:00:00Z"},
           {"keys", "show", "key_nonexistent"},
       }) {
    auto r = kg(args);
    EXPECT_EQ(r.exit_code, 1) << args[3];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(nlohmann::json::parse(kg({"keys", "list", "--tenant", "acme", "--json"}).out).size(), 5u);

  // No secret in any message.
  for (const auto& s : {secret, secret2, secret3, session_token})
    EXPECT_EQ(all_logs.find(s), std::string::npos) << "secret leaked into stderr";
}

TEST(CliStore, StoppedPostgresExitsTwoWithOneLine) {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  test::private_postgres pg;
  ASSERT_TRUE(pg.ok());
  temp_dir dir;
  const auto cfg = config_for(dir, pg.url());
  ASSERT_EQ(run_keygate({"migrate", "--config", cfg}).exit_code, 0);
  pg.stop();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"keys", "list", "--config", cfg, "--tenant", "acme"}, {"migrate", "--config", cfg}}) {
    auto r = run_keygate(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos);
  }
}

TEST(CliStore, FrozenPostgresFailsAtQueryTimeout) {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  test::private_postgres pg;
  ASSERT_TRUE(pg.ok());
  temp_dir dir;
  const auto cfg = config_for(dir, pg.url(), "400ms");
  ASSERT_EQ(run_keygate({"migrate", "--config", cfg}).exit_code, 0);
  pg.freeze();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_keygate({"tenants", "list", "--config", cfg});
  const auto took = std::chrono::steady_clock::now() - t0;
  pg.thaw();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("store_timeout"), std::string::npos) << r.err;
  EXPECT_LT(took, 2s);  // 400ms deadline plus process start, never libpq's own timeouts
}

}  // namespace
}  // namespace keygate::itest

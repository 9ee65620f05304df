// The store CLI on an embedded SQLite store (store.sqlite.path): migrate (twice, --status),
// tenants/users/keys create and list, a 10,000-line import in one transaction, an aborted import,
// exit codes 0/1/2, and the data plane's view of the same file. Needs no service; never skips.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "integration/support/process.hpp"
#include "keygate/auth/key_format.hpp"
#include "sqlite/sqlite_store.hpp"

namespace keygate::itest {
namespace {
using namespace std::chrono_literals;

std::string sqlite_config(const temp_dir& dir, const std::string& db_path) {
  return dir.write("keygate.yaml",
                   "store:\n  sqlite: {path: \"" + db_path +
                       "\"}\nauth:\n  key_prefixes: [{prefix: kg_live}, {prefix: wm, checksum: false}]\n"
                       "upstreams:\n  app: {url: \"http://127.0.0.1:9\"}\n"
                       "routes:\n  - {match: {prefix: /}, upstream: app, auth: required}\n");
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class CliSqlite : public ::testing::Test {
 protected:
  void SetUp() override { cfg_ = sqlite_config(dir_, db_path()); }
  std::string db_path() const { return dir_.path() + "/keygate.db"; }
  run_result kg(std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back(cfg_);
    auto r = run_keygate(args);
    logs_ += r.err;
    return r;
  }
  temp_dir dir_;
  std::string cfg_, logs_;
};

TEST_F(CliSqlite, MigrateTwiceAndStatus) {
  auto m1 = kg({"migrate"});
  ASSERT_EQ(m1.exit_code, 0) << m1.err;
  EXPECT_NE(m1.err.find("applied 0001_initial"), std::string::npos) << m1.err;
  auto m2 = kg({"migrate"});
  EXPECT_EQ(m2.exit_code, 0) << m2.err;
  EXPECT_NE(m2.err.find("up to date"), std::string::npos) << m2.err;
  auto st = kg({"migrate", "--status"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("0001  initial  applied"), std::string::npos) << st.out;
  auto js = kg({"migrate", "--status", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const auto j = nlohmann::json::parse(js.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].at("state"), "applied");
  EXPECT_EQ(j[0].at("applied_at").get<std::string>().size(), 20u);  // 2025-01-02T03:04:05Z
}

TEST_F(CliSqlite, TenantsUsersKeysAndImport) {
  ASSERT_EQ(kg({"migrate"}).exit_code, 0);
  ASSERT_EQ(kg({"tenants", "create", "--id", "acme", "--name", "Acme"}).exit_code, 0);
  EXPECT_EQ(kg({"tenants", "create", "--id", "acme", "--name", "Again"}).exit_code, 1);  // conflict
  ASSERT_EQ(kg({"users", "create", "--tenant", "acme", "--id", "alice", "--role", "admin"}).exit_code, 0);
  EXPECT_EQ(kg({"users", "create", "--tenant", "nope", "--id", "bob"}).exit_code, 1);  // no such tenant

  auto tenants = kg({"tenants", "list", "--json"});
  ASSERT_EQ(tenants.exit_code, 0) << tenants.err;
  EXPECT_EQ(nlohmann::json::parse(tenants.out).at(0).at("id"), "acme");
  auto users = kg({"users", "list", "--tenant", "acme", "--json"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  EXPECT_EQ(nlohmann::json::parse(users.out).at(0).at("role"), "admin");

  auto created = kg({"keys", "create", "--tenant", "acme", "--user", "alice", "--name", "ci", "--scopes",
                     "read,write", "--expires-in", "30d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto secret = trim(created.out);
  EXPECT_EQ(secret.rfind("kg_live_", 0), 0u);
  EXPECT_EQ(created.out, secret + "\n");  // the secret alone

  auto list = kg({"keys", "list", "--tenant", "acme", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto keys = nlohmann::json::parse(list.out);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].at("scopes"), (nlohmann::json{"read", "write"}));
  EXPECT_EQ(keys[0].at("status"), "active");
  EXPECT_EQ(list.out.find("key_hash"), std::string::npos);
  const std::string id = keys[0].at("id");
  EXPECT_EQ(kg({"keys", "revoke", id}).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(kg({"keys", "show", id, "--json"}).out).at("status"), "revoked");

  // 10,000 lines in one transaction, in seconds.
  std::string lines = "# imported\n";
  for (int i = 0; i < 10000; ++i)
    lines +=
        auth::sha256_hex_string("consumer-" + std::to_string(i)) + " consumer-" + std::to_string(i) + "\n";
  const auto big = dir_.write("big.map", lines);
  const auto t0 = std::chrono::steady_clock::now();
  auto imp = kg({"keys", "import", "--file", big, "--tenant", "acme", "--user", "alice", "--prefix", "wm"});
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(imp.err.find("imported 10000 keys"), std::string::npos) << imp.err;
  EXPECT_LT(took, 10s);

  // A hash already present aborts a whole new file, naming its line; nothing is written.
  const auto dup = dir_.write(
      "dup.map", std::string(64, 'e') + " fresh\n" + auth::sha256_hex_string("consumer-7") + " again\n");
  auto d = kg({"keys", "import", "--file", dup, "--tenant", "acme", "--user", "alice", "--prefix", "wm"});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_NE(d.err.find("line 2"), std::string::npos) << d.err;
  auto all = kg({"keys", "list", "--tenant", "acme", "--json"});
  ASSERT_EQ(all.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(all.out).size(), 10001u);

  // The data plane reads the same file: the imported hash resolves, an unknown one does not.
  sqlite::sqlite_options o;
  o.path = db_path();
  sqlite::sqlite_store store(o);
  auto found = store.find_key_by_hash_sync(auth::sha256_hex_string("consumer-7"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->tenant_id, "acme");
  EXPECT_EQ(found->user_role, core::role::admin);
  EXPECT_EQ(store.find_key_by_hash_sync(std::string(64, 'e')).error(), errc::not_found);

  EXPECT_EQ(logs_.find(secret), std::string::npos) << "secret leaked into stderr";
}

TEST_F(CliSqlite, UnusablePathExitsTwoWithOneLine) {
  temp_dir other;
  const auto cfg = sqlite_config(other, "/nonexistent-dir/keygate.db");
  for (const auto& args : std::vector<std::vector<std::string>>{{"migrate", "--config", cfg},
                                                                {"tenants", "list", "--config", cfg}}) {
    auto r = run_keygate(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace keygate::itest

// Store contract tests: manage::service + each store backend (Postgres, SQLite) through
// adapters::store_backend, each backend on a private database (support/store_test_backends.hpp).
// Postgres cases skip without $KEYGATE_TEST_PG_URL; SQLite cases need no service and never skip.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <thread>

#include "keygate/auth/key_format.hpp"
#include "keygate/manage/service.hpp"
#include "postgres/pg_store.hpp"
#include "support/pg_test_db.hpp"
#include "support/store_test_backends.hpp"

namespace keygate {
namespace {
using namespace std::chrono_literals;
using manage::actor;

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  static void TearDownTestSuite() { backends_.clear(); }
  void SetUp() override {
    auto& b = backends_[GetParam()];
    if (!b) b = test::make_store_test_backend(GetParam());
    backend_ = b.get();
    if (const auto why = backend_->skip_reason(); !why.empty()) GTEST_SKIP() << why;
    store_ = backend_->open(8, 2s, 256);
    const auto m = store_->migrate();
    ASSERT_EQ(m.code, errc::ok) << m.message;
    manage::service_options o;
    o.key_prefixes = {{"kg_live", true}, {"wm", false}};
    svc_ = std::make_unique<manage::service>(*store_, sink_, o);
    // Per-test ids so tests on one database do not see each other's rows.
    static std::atomic<int> seq{0};
    tenant_ = "t" + std::to_string(++seq);
    ASSERT_TRUE(svc_->create_tenant(actor::cli(), {tenant_, "Tenant", true, 5u}));
    ASSERT_TRUE(svc_->create_user(actor::cli(), {tenant_, tenant_ + "-admin", core::role::admin}));
    ASSERT_TRUE(svc_->create_user(actor::cli(), {tenant_, tenant_ + "-mem", core::role::member}));
  }

  std::int64_t audit_rows() {
    return backend_->scalar("SELECT count(*) FROM audit_events WHERE tenant_id = '" + tenant_ + "'");
  }
  std::int64_t key_rows() {
    return backend_->scalar("SELECT count(*) FROM api_keys WHERE tenant_id = '" + tenant_ + "'");
  }

  manage::create_key_request req(const std::string& user, std::string name = "k") {
    manage::create_key_request r;
    r.tenant_id = tenant_;
    r.user_id = user;
    r.name = std::move(name);
    return r;
  }

  // One backend (and its database) per kind for the whole suite.
  static inline std::map<std::string, std::unique_ptr<test::store_test_backend>> backends_;
  test::store_test_backend* backend_ = nullptr;
  std::unique_ptr<adapters::store_backend> store_;
  manage::no_invalidation sink_;
  std::unique_ptr<manage::service> svc_;
  std::string tenant_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("postgres", "sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_P(StoreContract, MigrateIsIdempotentAndRefusesTamperedFiles) {
  const auto again = store_->migrate();
  EXPECT_EQ(again.code, errc::ok);
  EXPECT_TRUE(again.applied.empty());
  std::string msg;
  auto st = store_->migration_status(msg);
  ASSERT_TRUE(st) << msg;
  ASSERT_FALSE(st->empty());
  for (const auto& m : *st) EXPECT_TRUE(m.applied && !m.changed) << m.version;
  backend_->exec("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = '0001'");
  const auto refused = store_->migrate();
  EXPECT_EQ(refused.code, errc::conflict);
  EXPECT_NE(refused.message.find("changed"), std::string::npos);
  backend_->exec("UPDATE schema_migrations SET checksum = '" + (*st)[0].checksum +
                 "' WHERE version = '0001'");
}

TEST_P(StoreContract, KeyLifecycleWithAuditRows) {
  const auto admin = tenant_ + "-admin";
  const auto a0 = audit_rows();
  auto r = req(admin, "ci");
  r.scopes = {"read", "write"};
  r.expires_at = store::clock::now() + 1h;
  auto k = svc_->create_key(actor::cli(), r);
  ASSERT_TRUE(k) << k.error().message;
  auto shown = svc_->show_key(actor::cli(), k->key.id);
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(shown->key_hash, auth::sha256_hex_string(k->secret));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*shown->expires_at - *r.expires_at).count(), 0);
  EXPECT_TRUE(svc_->disable_key(actor::cli(), k->key.id));
  EXPECT_TRUE(svc_->enable_key(actor::cli(), k->key.id));
  auto rot = svc_->rotate_key(actor::cli(), k->key.id, std::chrono::hours(24));
  ASSERT_TRUE(rot) << rot.error().message;
  // Grace never outlives the original expiry.
  EXPECT_LE(*rot->old_key.expires_at, *r.expires_at);
  auto old_now = svc_->show_key(actor::cli(), k->key.id);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*old_now->expires_at - *r.expires_at).count(),
            0);
  EXPECT_TRUE(svc_->revoke_key(actor::cli(), k->key.id));
  const auto a1 = audit_rows();
  EXPECT_EQ(a1 - a0, 5);  // create, disable, enable, rotate, revoke
  EXPECT_EQ(svc_->enable_key(actor::cli(), k->key.id).error().code, errc::conflict);
  EXPECT_EQ(svc_->rotate_key(actor::cli(), k->key.id, 0s).error().code, errc::conflict);
  EXPECT_EQ(audit_rows(), a1);  // rejected: no audit
  auto list = svc_->list_keys(actor::cli(), tenant_, admin);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
}

TEST_P(StoreContract, TwentyConcurrentCreatesAgainstALimitOfFive) {
  const auto user = tenant_ + "-mem";
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      auto k = svc_->create_key(actor::cli(), req(user, "c" + std::to_string(i)));
      if (k)
        ++ok;
      else if (k.error().code == errc::limit_exceeded)
        ++limited;
      else
        ++other;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(limited.load(), 15);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(key_rows(), 5);
}

TEST_P(StoreContract, BadInputWritesNothing) {
  const auto admin = tenant_ + "-admin";
  const auto a0 = audit_rows();
  auto bad = [&](manage::create_key_request r) { return svc_->create_key(actor::cli(), r).error().code; };
  EXPECT_EQ(bad(req("no/such")), errc::invalid_argument);
  EXPECT_EQ(bad(req("nobody")), errc::not_found);
  EXPECT_EQ(bad(req(admin, std::string(300, 'x'))), errc::invalid_argument);
  auto sc = req(admin);
  sc.scopes = {"a b"};
  EXPECT_EQ(bad(sc), errc::invalid_argument);
  sc.scopes = {"a\nb"};
  EXPECT_EQ(bad(sc), errc::invalid_argument);
  auto past = req(admin);
  past.expires_at = store::clock::now() - 1min;
  EXPECT_EQ(bad(past), errc::invalid_argument);
  auto other_tenant = req(admin);
  other_tenant.tenant_id = "nope";
  EXPECT_EQ(bad(other_tenant), errc::not_found);
  EXPECT_EQ(svc_->create_tenant(actor::cli(), {tenant_, "dup", true, std::nullopt}).error().code,
            errc::conflict);
  EXPECT_EQ(svc_->create_user(actor::cli(), {"nope", "x1", core::role::member}).error().code,
            errc::not_found);
  EXPECT_EQ(audit_rows(), a0);
  EXPECT_EQ(key_rows(), 0);
}

TEST_P(StoreContract, TenantScopedRulesOnRealStore) {
  const auto admin = tenant_ + "-admin", mem = tenant_ + "-mem";
  auto adm_key = svc_->create_key(actor::cli(), req(admin));
  ASSERT_TRUE(adm_key);
  actor m;
  m.kind = manage::actor_kind::api_key;
  m.name = "key_x";
  m.tenant_id = tenant_;
  m.user_id = mem;
  m.role = core::role::member;
  m.scopes = std::vector<std::string>{"read"};
  EXPECT_EQ(svc_->revoke_key(m, adm_key->key.id).error().code, errc::forbidden);
  auto own = req(mem);
  own.scopes = {"write"};
  EXPECT_EQ(svc_->create_key(m, own).error().code, errc::insufficient_scope);
  own.scopes = {"read"};
  EXPECT_TRUE(svc_->create_key(m, own));
  m.tenant_id = "elsewhere";
  EXPECT_EQ(svc_->create_key(m, own).error().code, errc::forbidden);
}

TEST_P(StoreContract, ImportTenThousandInOneTransaction) {
  const auto admin = tenant_ + "-admin";
  manage::import_request r{tenant_, admin, "wm", {}};
  for (std::size_t i = 0; i < 10000; ++i)
    r.items.push_back(
        {i + 1, auth::sha256_hex_string(tenant_ + std::to_string(i)), "consumer-" + std::to_string(i)});
  const auto t0 = std::chrono::steady_clock::now();
  auto n = svc_->import_keys(actor::cli(), r);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_EQ(key_rows(), 10000);
  // One hash already present aborts a whole new file, naming its line.
  manage::import_request again{
      tenant_, admin, "wm", {{1, std::string(64, 'e'), "x"}, {2, r.items[5].sha256, "y"}}};
  auto dup = svc_->import_keys(actor::cli(), again);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("line 2"), std::string::npos);
  EXPECT_EQ(key_rows(), 10000);
}

TEST_P(StoreContract, AsyncLookupResumesOnCallersExecutor) {
  auto k = svc_->create_key(actor::cli(), req(tenant_ + "-admin"));
  ASSERT_TRUE(k);
  auto s = svc_->create_session(actor::cli(), {tenant_ + "-mem", 1h});
  ASSERT_TRUE(s);
  boost::asio::io_context io;
  std::optional<result<store::key_record>> found, missing;
  std::optional<result<store::session_record>> session;
  std::thread::id resumed_on;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        found = co_await store_->find_key_by_hash(k->key.key_hash);
        resumed_on = std::this_thread::get_id();
        missing = co_await store_->find_key_by_hash(std::string(64, '0'));
        session = co_await store_->find_session_by_hash(s->session.token_hash);
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->key_id, k->key.id);
  EXPECT_EQ((*found)->tenant_id, tenant_);
  EXPECT_EQ((*found)->user_role, core::role::admin);
  EXPECT_TRUE((*found)->tenant_api_access);
  EXPECT_FALSE((*found)->user_disabled);
  EXPECT_FALSE((*found)->revoked_at);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->error(), errc::not_found);
  ASSERT_TRUE(session && *session);
  EXPECT_EQ((*session)->session_id, s->session.id);
}

// Work queued for the store's own threads (run(); Postgres lookups too) fails fast when the
// queue is full instead of waiting.
TEST_P(StoreContract, FullQueueFailsFast) {
  auto tiny_store = backend_->open(1, 2s, 1);
  auto& tiny = *tiny_store;
  boost::asio::io_context io;
  std::atomic<int> overloaded{0}, done{0};
  for (int i = 0; i < 50; ++i)
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          std::function<result<void>()> slow = [] {
            std::this_thread::sleep_for(20ms);
            return result<void>{};
          };
          auto r = co_await tiny.run(std::move(slow));
          if (!r && r.error() == errc::store_overloaded) ++overloaded;
          ++done;
        },
        boost::asio::detached);
  io.run();
  EXPECT_EQ(done.load(), 50);
  EXPECT_GT(overloaded.load(), 0);
  EXPECT_LT(overloaded.load(), 50);
}

// A frozen (SIGSTOP) or stopped Postgres: calls fail at query_timeout, the pool recovers.
TEST(StoreDeadline, FrozenPostgresFailsAtQueryTimeoutAndRecovers) {
  if (!test::test_pg_url()) GTEST_SKIP() << "KEYGATE_TEST_PG_URL not set";
  test::private_postgres pg;
  ASSERT_TRUE(pg.ok());
  postgres::pg_store store(postgres::pool_options{pg.url(), 2, 300ms, 64});
  ASSERT_EQ(store.migrate().code, errc::ok);
  auto warm = store.find_key_by_hash_sync(std::string(64, 'a'));
  ASSERT_EQ(warm.error(), errc::not_found);

  pg.freeze();
  const auto t0 = std::chrono::steady_clock::now();
  auto frozen = store.find_key_by_hash_sync(std::string(64, 'a'));
  const auto took = std::chrono::steady_clock::now() - t0;
  pg.thaw();
  ASSERT_FALSE(frozen);
  EXPECT_EQ(frozen.error(), errc::store_timeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);
  // The blocked thread was unblocked and reconnects.
  result<store::key_record> after = errc::internal;
  for (int i = 0; i < 20; ++i) {
    after = store.find_key_by_hash_sync(std::string(64, 'a'));
    if (!after && after.error() == errc::not_found) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(after.error(), errc::not_found);

  pg.stop();
  auto down = store.find_key_by_hash_sync(std::string(64, 'a'));
  ASSERT_FALSE(down);
  EXPECT_TRUE(down.error() == errc::store_unavailable || down.error() == errc::store_timeout)
      << down.error().message();
}

// A store on `b`'s file that waits `busy` for another connection's lock (statements: 2 s).
sqlite::sqlite_options sqlite_options_for(const test::sqlite_test_backend& b,
                                          std::chrono::milliseconds busy) {
  sqlite::sqlite_options o;
  o.path = b.path();
  o.busy_timeout = busy;
  o.query_timeout = 2s;
  return o;
}

// SQLite: another connection (e.g. the CLI next to `serve`) holding the write lock makes writes
// fail with store_timeout after busy_timeout, while lookups keep answering (WAL); the store
// recovers when the lock is released.
TEST(SqliteStoreDeadline, ForeignWriteLockTimesOutWritesButNotReads) {
  test::sqlite_test_backend b;
  const auto o = sqlite_options_for(b, 300ms);
  sqlite::sqlite_store s(o);
  ASSERT_EQ(s.migrate().code, errc::ok);
  auto insert = [&](const std::string& id) {
    return s.transact([&](store::store_tx& tx) {
      return tx.insert_tenant({id, "X", true, std::nullopt, store::clock::now()});
    });
  };
  b.exec("PRAGMA journal_mode");  // the file exists and is in WAL mode
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(b.path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto t0 = std::chrono::steady_clock::now();
  const auto blocked = insert("blocked");
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error(), errc::store_timeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(s.find_key_by_hash_sync(std::string(64, 'a')).error(), errc::not_found);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(insert("after"));
  EXPECT_EQ(b.scalar("SELECT count(*) FROM tenants WHERE id IN ('blocked', 'after')"), 1);
}

// SQLite lookups run on the calling thread (sqlite/thread_readers.hpp): fifty concurrent ones
// against a store whose reader lane queues one job never see store_overloaded.
TEST(SqliteStoreLookups, RunOnTheCallingThreadWithoutQueueing) {
  test::sqlite_test_backend b;
  auto tiny = b.open(1, 2s, 1);
  ASSERT_EQ(tiny->migrate().code, errc::ok);
  boost::asio::io_context io;
  int not_found = 0, done = 0;
  for (int i = 0; i < 50; ++i)
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          auto r = co_await tiny->find_key_by_hash(std::string(64, 'b'));
          if (!r && r.error() == errc::not_found) ++not_found;
          ++done;
        },
        boost::asio::detached);
  io.run();
  EXPECT_EQ(done, 50);
  EXPECT_EQ(not_found, 50);
}

// A lookup that would wait for a lock (another process holds the database in exclusive mode)
// never blocks the calling io thread: it goes to the reader lane, whose busy_timeout bounds it
// (store_timeout), while other work on the same io_context runs; after the lock is released,
// lookups answer again.
TEST(SqliteStoreLookups, LockedDatabaseNeverBlocksTheCallingThread) {
  test::sqlite_test_backend b;
  const auto o = sqlite_options_for(b, 400ms);
  {
    sqlite::sqlite_store migrator(o);
    ASSERT_EQ(migrator.migrate().code, errc::ok);
  }
  // Exclusive mode needs every other connection closed; the store opens its own on first use.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(b.path().c_str(), &other), SQLITE_OK);
  sqlite::sqlite_store s(o);
  ASSERT_EQ(sqlite3_exec(other,
                         "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                         "INSERT INTO tenants (id, name, api_access, created_at) VALUES ('lk', 'L', 1, 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(other);

  boost::asio::io_context io;
  std::optional<result<store::key_record>> locked;
  std::chrono::steady_clock::duration lookup_took{}, timer_took{};
  const auto t0 = std::chrono::steady_clock::now();
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        locked = co_await s.find_key_by_hash(std::string(64, 'c'));
        lookup_took = std::chrono::steady_clock::now() - t0;
      },
      boost::asio::detached);
  boost::asio::steady_timer tick(io, 50ms);
  tick.async_wait([&](boost::system::error_code) { timer_took = std::chrono::steady_clock::now() - t0; });
  io.run();
  ASSERT_TRUE(locked);
  ASSERT_FALSE(*locked);
  EXPECT_EQ(locked->error(), errc::store_timeout);
  EXPECT_GE(lookup_took, 350ms);       // waited on the lane, for busy_timeout
  EXPECT_LT(timer_took, lookup_took);  // the io thread kept running meanwhile
  EXPECT_LT(timer_took, 300ms);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  boost::asio::io_context io2;
  std::optional<result<store::key_record>> after;
  boost::asio::co_spawn(
      io2,
      [&]() -> boost::asio::awaitable<void> { after = co_await s.find_key_by_hash(std::string(64, 'c')); },
      boost::asio::detached);
  io2.run();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->error(), errc::not_found);
}

TEST(SqliteStoreDeadline, UnusablePathIsStoreUnavailable) {
  sqlite::sqlite_options o;
  o.path = "/nonexistent-dir/keygate.db";
  sqlite::sqlite_store s(o);
  const auto m = s.migrate();
  EXPECT_EQ(m.code, errc::store_unavailable) << m.message;
  EXPECT_EQ(s.find_key_by_hash_sync(std::string(64, 'a')).error(), errc::store_unavailable);
}

}  // namespace
}  // namespace keygate

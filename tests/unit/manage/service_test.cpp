// manage::service rules against the in-memory fake store: tenancy, roles, scopes, limits,
// api_access, expiry, rotation grace, revocation finality, audit rows, invalidation.
#include "keygate/manage/service.hpp"

#include <gtest/gtest.h>

#include "support/fake_management_store.hpp"

namespace keygate::manage {
namespace {
using namespace std::chrono_literals;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.key_prefixes = {{"kg_live", true}, {"wm", false}};
    options_.default_max_keys_per_user = 3;
    options_.now = [this] { return now_; };
    svc_ = std::make_unique<service>(store_, sink_, options_);
    const auto cli = actor::cli();
    ASSERT_TRUE(svc_->create_tenant(cli, {"acme", "Acme", true, std::nullopt}));
    ASSERT_TRUE(svc_->create_tenant(cli, {"beta", "Beta", true, std::nullopt}));
    ASSERT_TRUE(svc_->create_tenant(cli, {"noapi", "No API", false, std::nullopt}));
    ASSERT_TRUE(svc_->create_user(cli, {"acme", "alice", core::role::admin}));
    ASSERT_TRUE(svc_->create_user(cli, {"acme", "mem", core::role::member}));
    ASSERT_TRUE(svc_->create_user(cli, {"acme", "viewer", core::role::viewer}));
    ASSERT_TRUE(svc_->create_user(cli, {"beta", "bob", core::role::owner}));
    ASSERT_TRUE(svc_->create_user(cli, {"noapi", "nina", core::role::owner}));
  }

  actor key_actor(std::string tenant, std::string user, core::role role,
                  std::optional<std::vector<std::string>> scopes = std::nullopt) {
    actor a;
    a.kind = actor_kind::api_key;
    a.name = "key_caller";
    a.tenant_id = std::move(tenant);
    a.user_id = std::move(user);
    a.role = role;
    a.scopes = std::move(scopes);
    a.request_id = "req-1";
    a.client_ip = "192.0.2.1";
    return a;
  }

  create_key_request req(std::string tenant, std::string user, std::string name = "k") {
    create_key_request r;
    r.tenant_id = std::move(tenant);
    r.user_id = std::move(user);
    r.name = std::move(name);
    return r;
  }

  std::size_t audit_count() const { return store_.state.audit.size(); }

  store::time_point now_ = store::clock::now();
  service_options options_;
  test::fake_management_store store_;
  test::recording_sink sink_;
  std::unique_ptr<service> svc_;
};

TEST_F(ServiceTest, CliCreatesKeyWithSecretOnceAndAudit) {
  const auto before = audit_count();
  auto k = svc_->create_key(actor::cli(), req("acme", "alice"));
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->secret.rfind("kg_live_", 0), 0u);
  EXPECT_EQ(k->key.role, core::role::admin);
  EXPECT_EQ(k->key.key_hash.size(), 64u);
  EXPECT_EQ(k->key.display_prefix, k->secret.substr(0, 14));
  EXPECT_EQ(audit_count(), before + 1);
  EXPECT_EQ(store_.state.audit.back().action, "key.create");
  EXPECT_EQ(store_.state.audit.back().actor, "system:cli");
  ASSERT_EQ(sink_.keys.size(), 1u);
  EXPECT_EQ(sink_.keys[0], k->key.key_hash);
  for (const auto& e : store_.state.audit) EXPECT_EQ(e.detail.find(k->secret), std::string::npos);
}

TEST_F(ServiceTest, TenantScopedActorStaysInItsTenant) {
  const auto before = audit_count();
  auto r = svc_->create_key(key_actor("acme", "alice", core::role::admin), req("beta", "bob"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::forbidden);
  auto other = svc_->create_key(actor::cli(), req("beta", "bob"));
  ASSERT_TRUE(other);
  EXPECT_EQ(svc_->revoke_key(key_actor("acme", "alice", core::role::owner), other->key.id).error().code,
            errc::forbidden);
  EXPECT_EQ(svc_->show_key(key_actor("acme", "alice", core::role::owner), other->key.id).error().code,
            errc::forbidden);
  EXPECT_EQ(audit_count(), before + 1);  // only the CLI's create
}

TEST_F(ServiceTest, MembersManageOnlyTheirOwnKeysAdminsAll) {
  auto alices = svc_->create_key(actor::cli(), req("acme", "alice"));
  ASSERT_TRUE(alices);
  const auto member = key_actor("acme", "mem", core::role::member);
  EXPECT_EQ(svc_->create_key(member, req("acme", "alice")).error().code, errc::forbidden);
  EXPECT_EQ(svc_->disable_key(member, alices->key.id).error().code, errc::forbidden);
  auto own = svc_->create_key(member, req("acme", "mem"));
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_TRUE(svc_->disable_key(member, own->key.id));
  auto listed = svc_->list_keys(member, std::nullopt, std::nullopt);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].user_id, "mem");
  const auto admin = key_actor("acme", "alice", core::role::admin);
  EXPECT_TRUE(svc_->enable_key(admin, own->key.id));
  EXPECT_EQ(svc_->list_keys(admin, std::nullopt, std::nullopt)->size(), 2u);
  EXPECT_EQ(
      svc_->create_key(key_actor("acme", "viewer", core::role::viewer), req("acme", "viewer")).error().code,
      errc::role_too_low);
}

TEST_F(ServiceTest, NoRoleOrScopeEscalation) {
  const auto member = key_actor("acme", "mem", core::role::member, std::vector<std::string>{"read"});
  auto r = req("acme", "mem");
  r.role = core::role::admin;
  EXPECT_EQ(svc_->create_key(member, r).error().code, errc::role_too_low);
  r.role.reset();
  r.scopes = {"read", "write"};
  EXPECT_EQ(svc_->create_key(member, r).error().code, errc::insufficient_scope);
  r.scopes = {"read"};
  auto ok = svc_->create_key(member, r);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->key.scopes, std::vector<std::string>{"read"});
  EXPECT_EQ(ok->key.role, core::role::member);
  // Even the CLI cannot give a key more than its user's role.
  auto over = req("acme", "mem");
  over.role = core::role::owner;
  EXPECT_EQ(svc_->create_key(actor::cli(), over).error().code, errc::role_too_low);
}

TEST_F(ServiceTest, ValidationErrorsWriteNothing) {
  const auto before_audit = audit_count();
  const auto before_keys = store_.state.keys.size();
  auto bad = [&](create_key_request r) { return svc_->create_key(actor::cli(), r).error().code; };
  EXPECT_EQ(bad(req("ac me", "alice")), errc::invalid_argument);
  EXPECT_EQ(bad(req("acme", "al/ice")), errc::invalid_argument);
  EXPECT_EQ(bad(req("acme", "alice", "")), errc::invalid_argument);
  EXPECT_EQ(bad(req("acme", "alice", std::string(129, 'n'))), errc::invalid_argument);
  EXPECT_EQ(bad(req("acme", "alice", "tab\there")), errc::invalid_argument);
  auto scoped = req("acme", "alice");
  scoped.scopes = {"has space"};
  EXPECT_EQ(bad(scoped), errc::invalid_argument);
  scoped.scopes = {std::string("ctl\x01")};
  EXPECT_EQ(bad(scoped), errc::invalid_argument);
  auto past = req("acme", "alice");
  past.expires_at = now_ - 1s;
  EXPECT_EQ(bad(past), errc::invalid_argument);
  EXPECT_EQ(bad(req("acme", "nobody")), errc::not_found);
  EXPECT_EQ(bad(req("nope", "alice")), errc::not_found);
  auto wm = req("acme", "alice");
  wm.prefix = "wm";
  EXPECT_EQ(bad(wm), errc::invalid_argument);  // no checksum: import only
  EXPECT_EQ(audit_count(), before_audit);
  EXPECT_EQ(store_.state.keys.size(), before_keys);
}

TEST_F(ServiceTest, TenantWithoutApiAccessCannotMintKeys) {
  EXPECT_EQ(svc_->create_key(actor::cli(), req("noapi", "nina")).error().code, errc::api_access_disabled);
}

TEST_F(ServiceTest, PerUserLimitCountsLiveKeysOnly) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto k = svc_->create_key(actor::cli(), req("acme", "alice"));
    ASSERT_TRUE(k);
    ids.push_back(k->key.id);
  }
  EXPECT_EQ(svc_->create_key(actor::cli(), req("acme", "alice")).error().code, errc::limit_exceeded);
  ASSERT_TRUE(svc_->revoke_key(actor::cli(), ids[0]));
  EXPECT_TRUE(svc_->create_key(actor::cli(), req("acme", "alice")));
}

TEST_F(ServiceTest, RotationGraceNeverOutlivesOriginalExpiry) {
  auto r = req("acme", "alice");
  r.expires_at = now_ + 10min;
  auto k = svc_->create_key(actor::cli(), r);
  ASSERT_TRUE(k);
  auto rot = svc_->rotate_key(actor::cli(), k->key.id, std::chrono::hours(1));
  ASSERT_TRUE(rot) << rot.error().message;
  EXPECT_EQ(rot->old_key.expires_at, now_ + 10min);  // min(now+1h, expiry)
  EXPECT_EQ(rot->new_key.key.expires_at, now_ + 10min);
  EXPECT_EQ(rot->new_key.key.rotated_from, k->key.id);
  EXPECT_NE(rot->new_key.secret, k->secret);

  auto k2 = svc_->create_key(actor::cli(), req("acme", "mem"));
  ASSERT_TRUE(k2);
  auto rot2 = svc_->rotate_key(actor::cli(), k2->key.id, 30s);
  ASSERT_TRUE(rot2);
  EXPECT_EQ(rot2->old_key.expires_at, now_ + 30s);
  EXPECT_EQ(store_.state.audit.back().action, "key.rotate");
}

TEST_F(ServiceTest, RevokedKeysAreFinal) {
  auto k = svc_->create_key(actor::cli(), req("acme", "alice"));
  ASSERT_TRUE(k);
  ASSERT_TRUE(svc_->revoke_key(actor::cli(), k->key.id));
  const auto before = audit_count();
  EXPECT_EQ(svc_->enable_key(actor::cli(), k->key.id).error().code, errc::conflict);
  EXPECT_EQ(svc_->disable_key(actor::cli(), k->key.id).error().code, errc::conflict);
  EXPECT_EQ(svc_->rotate_key(actor::cli(), k->key.id, 0s).error().code, errc::conflict);
  EXPECT_EQ(audit_count(), before);
}

TEST_F(ServiceTest, StateChangesInvalidateAndReportSinkFailure) {
  auto k = svc_->create_key(actor::cli(), req("acme", "alice"));
  ASSERT_TRUE(k);
  sink_.keys.clear();
  ASSERT_TRUE(svc_->disable_key(actor::cli(), k->key.id));
  EXPECT_EQ(sink_.keys, std::vector<std::string>{k->key.key_hash});
  sink_.fail = true;
  EXPECT_EQ(svc_->revoke_key(actor::cli(), k->key.id).error().code, errc::invalidation_incomplete);
}

TEST_F(ServiceTest, ImportIsAllOrNothingWithLineNumbers) {
  const std::string h1(64, 'a'), h2(64, 'b');
  import_request r{"acme", "alice", "wm", {{1, h1, "one"}, {3, h2, "two"}, {4, h1, "again"}}};
  auto dup = svc_->import_keys(actor::cli(), r);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("line 4"), std::string::npos) << dup.error().message;
  EXPECT_TRUE(store_.state.keys.empty());
  r.items.pop_back();
  r.items.push_back({7, "XYZ", "bad"});
  auto badhex = svc_->import_keys(actor::cli(), r);
  ASSERT_FALSE(badhex);
  EXPECT_NE(badhex.error().message.find("line 7"), std::string::npos);
  r.items.pop_back();
  ASSERT_TRUE(svc_->import_keys(actor::cli(), r));
  EXPECT_EQ(store_.state.keys.size(), 2u);
  // The same hash again aborts a later file.
  import_request again{"acme", "alice", "wm", {{1, std::string(64, 'c'), "new"}, {2, h2, "old"}}};
  auto conflict = svc_->import_keys(actor::cli(), again);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, errc::conflict);
  EXPECT_NE(conflict.error().message.find("line 2"), std::string::npos);
  EXPECT_EQ(store_.state.keys.size(), 2u);
  EXPECT_EQ(svc_->import_keys(key_actor("acme", "alice", core::role::owner), r).error().code,
            errc::forbidden);
}

TEST_F(ServiceTest, SessionsAreServiceOnlyAndRevocable) {
  EXPECT_EQ(svc_->create_session(key_actor("acme", "alice", core::role::owner), {"alice", 1h}).error().code,
            errc::forbidden);
  auto s = svc_->create_session(actor::cli(), {"alice", 1h});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->session.tenant_id, "acme");
  EXPECT_EQ(s->session.expires_at, now_ + 1h);
  auto rv = svc_->revoke_session(actor::cli(), s->session.id);
  ASSERT_TRUE(rv);
  EXPECT_TRUE(rv->revoked_at);
  EXPECT_EQ(svc_->create_session(actor::cli(), {"alice", 0s}).error().code, errc::invalid_argument);
}

TEST_F(ServiceTest, DependencyErrorsPassThrough) {
  store_.fail_with = errc::store_unavailable;
  EXPECT_EQ(svc_->create_key(actor::cli(), req("acme", "alice")).error().code, errc::store_unavailable);
  store_.fail_with = errc::store_timeout;
  EXPECT_EQ(svc_->list_tenants(actor::cli()).error().code, errc::store_timeout);
}

}  // namespace
}  // namespace keygate::manage

// Rotation over HTTP across three instances (SPEC §5): POST /v1/keys/{id}/rotate {grace_seconds}
// → 201 with the new secret; the new key works at once on every instance; the old key keeps
// working until min(now + grace, old expiry) on every instance and is rejected everywhere after.
#include <gtest/gtest.h>

#include <thread>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class InternalRotation : public kc::cluster_suite {};

TEST_F(InternalRotation, NewKeyAtOnceOldKeyUntilGraceEndOnEveryInstance) {
  kc::node a(options("A")), b(options("B")), c(options("C"));
  ASSERT_TRUE(a.started() && b.started() && c.started());
  const std::vector<const kc::node*> all{&a, &b, &c};
  const auto old = a.create_key("acme", "mia");
  for (const auto* n : all) ASSERT_EQ(n->probe(old.secret), 200) << n->options().name;

  constexpr int grace = 3;
  const auto t0 = steady::now();
  const auto r = a.api("POST", "/v1/keys/" + old.id + "/rotate", kc::svc(), R"({"grace_seconds":3})");
  ASSERT_EQ(r.status(), 201) << r.describe();
  const auto j = r.json();
  ASSERT_TRUE(j.contains("secret") && j.contains("id") && j.contains("old_key")) << r.describe();
  const std::string fresh = j["secret"], fresh_id = j["id"];
  EXPECT_NE(fresh_id, old.id);
  EXPECT_EQ(j["old_key"].value("id", ""), old.id) << r.describe();

  // The new key works at once, everywhere (first request, no retry).
  for (const auto* n : all)
    EXPECT_EQ(n->probe(fresh), 200) << n->options().name << ": new key not accepted at once";
  // The old key keeps working during the grace period on every instance.
  while (steady::now() < t0 + std::chrono::milliseconds(grace * 1000 - 800)) {
    for (const auto* n : all)
      ASSERT_EQ(n->probe(old.secret), 200) << n->options().name << ": old key rejected " << seconds_since(t0)
                                           << " s into a " << grace << " s grace";
    std::this_thread::sleep_for(100ms);
  }
  // ... and is rejected everywhere once it ends (second precision of the stored expiry + 1 s slack).
  std::this_thread::sleep_until(t0 + std::chrono::milliseconds(grace * 1000 + 1100));
  for (const auto* n : all) {
    EXPECT_EQ(n->probe(old.secret), 401) << n->options().name << ": old key still accepted after the grace";
    EXPECT_EQ(n->probe(fresh), 200) << n->options().name;
  }
  const auto shown = a.api("GET", "/v1/keys/" + old.id, kc::svc());
  EXPECT_EQ(shown.json().value("status", ""), "expired") << shown.describe();
}

TEST_F(InternalRotation, ZeroGraceRejectsTheOldKeyEverywhereWithinOneSecond) {
  kc::node a(options("A")), b(options("B")), c(options("C"));
  ASSERT_TRUE(a.started() && b.started() && c.started());
  const auto old = a.create_key("acme", "mia");
  for (const auto* n : {&a, &b, &c}) ASSERT_EQ(n->probe(old.secret), 200);
  const auto r = b.api("POST", "/v1/keys/" + old.id + "/rotate", kc::svc(), R"({"grace_seconds":0})");
  ASSERT_EQ(r.status(), 201) << r.describe();
  const std::string fresh = r.json().value("secret", "");
  for (const auto* n : {&a, &b, &c}) {
    EXPECT_TRUE(kc::probe_until(*n, old.secret, 401, 1s)) << n->options().name << ": old key still accepted";
    EXPECT_EQ(n->probe(fresh), 200) << n->options().name;
  }
}

// Rotation by the key's owner (a member) with her own key as the caller.
TEST_F(InternalRotation, MemberRotatesOwnKeyButNotAnothers) {
  kc::node a(options("A")), b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto mine = a.create_key("acme", "mia");
  const auto theirs = a.create_key("acme", "max");
  ASSERT_EQ(b.probe(theirs.secret), 200);
  const auto denied =
      a.api("POST", "/v1/keys/" + theirs.id + "/rotate", kc::bearer(mine.secret), R"({"grace_seconds":0})");
  EXPECT_TRUE(is_json_error(denied, 403, {"forbidden"}) || is_json_error(denied, 404, {"not_found"}))
      << denied.describe();
  EXPECT_EQ(b.probe(theirs.secret), 200) << "a refused rotation still expired the key";
  const auto ok =
      a.api("POST", "/v1/keys/" + mine.id + "/rotate", kc::bearer(mine.secret), R"({"grace_seconds":0})");
  ASSERT_EQ(ok.status(), 201) << ok.describe();
  EXPECT_TRUE(kc::probe_until(b, mine.secret, 401, 1s));
  EXPECT_EQ(b.probe(ok.json().value("secret", "")), 200);
}

}  // namespace
}  // namespace keygate::itest

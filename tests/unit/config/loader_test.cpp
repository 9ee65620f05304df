#include "keygate/config/loader.hpp"

#include <gtest/gtest.h>

#include <map>

namespace keygate::config {
namespace {

// An environment made of a map, so tests never depend on the real one.
env_lookup env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::vector<std::string> errors_of(const std::string& yaml, const env_lookup& env = env_of({})) {
  try {
    load_string(yaml, env, "t.yaml");
  } catch (const load_error& e) {
    return e.errors();
  }
  return {};
}

bool has_error(const std::vector<std::string>& errors, const std::string& needle) {
  for (const auto& e : errors)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

TEST(ConfigLoader, ParsesShippedExample) {
  const auto cfg = load_file(KEYGATE_SOURCE_DIR "/config/keygate.example.yaml",
                             env_of({{"KEYGATE_PG_URL", "postgresql://u@127.0.0.1/kg"}}));
  EXPECT_EQ(cfg.server.listen.port, 8080);
  EXPECT_EQ(cfg.server.limits.max_body_bytes, 10485760u);
  ASSERT_TRUE(cfg.store.postgres);
  EXPECT_EQ(cfg.store.postgres->url, "postgresql://u@127.0.0.1/kg");
  EXPECT_EQ(cfg.store.postgres->query_timeout, std::chrono::milliseconds(500));
  EXPECT_TRUE(cfg.store.postgres->listen_notify);
  ASSERT_TRUE(cfg.cache.redis);
  EXPECT_EQ(cfg.cache.redis->namespace_, "keygate:prod");
  ASSERT_EQ(cfg.auth.key_prefixes.size(), 3u);
  EXPECT_FALSE(cfg.auth.key_prefixes[2].checksum);
  ASSERT_EQ(cfg.routes.size(), 3u);
  EXPECT_EQ(cfg.routes[1].min_role, core::role::admin);
  EXPECT_EQ(cfg.routes[0].auth, auth_requirement::none);
  EXPECT_EQ(cfg.upstreams.at(0).port, 3000);
  EXPECT_EQ(cfg.internal.service_tokens.size(), 1u);
}

TEST(ConfigLoader, SqliteSettingsAndTheirBounds) {
  const std::string head =
      "upstreams: {app: {url: \"http://127.0.0.1:3000\"}}\nroutes: [{match: {prefix: /}, upstream: app}]\n";
  const auto cfg = load_string(
      head + "store: {sqlite: {path: /tmp/k.db, readers: 3, query_timeout: 250ms, busy_timeout: 2s}}\n",
      env_of({}), "t.yaml");
  ASSERT_TRUE(cfg.store.sqlite);
  EXPECT_EQ(cfg.store.sqlite->readers, 3u);
  EXPECT_EQ(cfg.store.sqlite->query_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg.store.sqlite->busy_timeout, std::chrono::seconds(2));
  const auto defaults = load_string(head + "store: {sqlite: {path: /tmp/k.db}}\n", env_of({}), "t.yaml");
  EXPECT_EQ(defaults.store.sqlite->readers, 2u);
  EXPECT_EQ(defaults.store.sqlite->query_timeout, std::chrono::seconds(1));
  EXPECT_EQ(defaults.store.sqlite->busy_timeout, std::chrono::seconds(5));

  const auto errors = errors_of(
      head +
      "store: {sqlite: {path: /tmp/k.db, readers: 0, query_timeout: 0s, busy_timeout: soon, pool: 1}}\n");
  EXPECT_TRUE(has_error(errors, "store.sqlite.readers")) << ::testing::PrintToString(errors);
  EXPECT_TRUE(has_error(errors, "store.sqlite.query_timeout")) << ::testing::PrintToString(errors);
  EXPECT_TRUE(has_error(errors, "store.sqlite.busy_timeout")) << ::testing::PrintToString(errors);
  EXPECT_TRUE(has_error(errors, "store.sqlite.pool")) << ::testing::PrintToString(errors);
}

TEST(ConfigLoader, ReportsEveryErrorWithItsPath) {
  const auto errors = errors_of(R"(
server: {listen: "nope", workers: -1, limits: {max_body_bytes: lots, header_timeout: 10 seconds}}
bogus: 1
upstreams: {app: {url: "ftp://x"}}
routes:
  - {match: {prefix: /}, upstream: missing, auth: sometimes}
)");
  EXPECT_TRUE(has_error(errors, "t.yaml: server.listen: expected host:port"));
  EXPECT_TRUE(has_error(errors, "server.workers"));
  EXPECT_TRUE(has_error(errors, "server.limits.max_body_bytes"));
  EXPECT_TRUE(has_error(errors, "server.limits.header_timeout: expected a duration"));
  EXPECT_TRUE(has_error(errors, "bogus: unknown key"));
  EXPECT_TRUE(has_error(errors, "upstreams.app.url"));
  EXPECT_TRUE(has_error(errors, "routes[0].upstream: unknown upstream 'missing'"));
  EXPECT_TRUE(has_error(errors, "routes[0].auth: expected one of required|optional|none"));
  EXPECT_GE(errors.size(), 8u);
}

TEST(ConfigLoader, RejectsUnknownNestedKeys) {
  const auto errors = errors_of("server: {limits: {max_body: 1}}\nlog: {colour: true}\n");
  EXPECT_TRUE(has_error(errors, "server.limits.max_body: unknown key"));
  EXPECT_TRUE(has_error(errors, "log.colour: unknown key"));
}

TEST(ConfigLoader, InterpolatesEnvironment) {
  const auto cfg =
      load_string("server: {listen: \"${HOST}:${PORT:-9000}\"}\n", env_of({{"HOST", "127.0.0.2"}}));
  EXPECT_EQ(cfg.server.listen.host, "127.0.0.2");
  EXPECT_EQ(cfg.server.listen.port, 9000);
  EXPECT_TRUE(has_error(errors_of("server: {listen: \"${UNSET_VAR}\"}\n"),
                        "server.listen: environment variable UNSET_VAR is not set"));
}

TEST(ConfigLoader, EnvironmentOverridesScalarsEvenWhenAbsentFromFile) {
  const auto cfg = load_string("server: {listen: 0.0.0.0:1}\n",
                               env_of({{"KEYGATE_SERVER_LISTEN", "127.0.0.1:7000"},
                                       {"KEYGATE_SERVER_LIMITS_MAX_BODY_BYTES", "1MiB"},
                                       {"KEYGATE_LOG_LEVEL", "warn"},
                                       {"KEYGATE_STORE_POSTGRES_URL", "postgresql://x/y"}}));
  EXPECT_EQ(cfg.server.listen.port, 7000);
  EXPECT_EQ(cfg.server.limits.max_body_bytes, 1024u * 1024u);
  EXPECT_EQ(cfg.log.level, "warn");
  ASSERT_TRUE(cfg.store.postgres);
  EXPECT_EQ(cfg.store.postgres->url, "postgresql://x/y");
}

// store.postgres.listen_notify: on by default, off in the file, and the KEYGATE_STORE_POSTGRES_*
// overrides apply also when the file has no store.postgres section at all.
TEST(ConfigLoader, PostgresListenNotify) {
  const auto on = load_string("store: {postgres: {url: \"postgresql://x/y\"}}\n", env_of({}));
  ASSERT_TRUE(on.store.postgres);
  EXPECT_TRUE(on.store.postgres->listen_notify);
  const auto off =
      load_string("store: {postgres: {url: \"postgresql://x/y\", listen_notify: false}}\n", env_of({}));
  EXPECT_FALSE(off.store.postgres->listen_notify);
  const auto env =
      load_string("server: {listen: 0.0.0.0:1}\n", env_of({{"KEYGATE_STORE_POSTGRES_URL", "postgresql://x/y"},
                                                           {"KEYGATE_STORE_POSTGRES_LISTEN_NOTIFY", "false"},
                                                           {"KEYGATE_STORE_POSTGRES_POOL_SIZE", "7"}}));
  ASSERT_TRUE(env.store.postgres);
  EXPECT_FALSE(env.store.postgres->listen_notify);
  EXPECT_EQ(env.store.postgres->pool_size, 7u);
  EXPECT_TRUE(has_error(errors_of("store: {postgres: {url: \"postgresql://x/y\", listen_notify: maybe}}\n"),
                        "store.postgres.listen_notify: expected true or false"));
}

TEST(ConfigLoader, Durations) {
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), std::chrono::seconds(10));
  EXPECT_EQ(parse_duration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(parse_duration("30d"), std::chrono::hours(720));
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("1.5s"));
}

TEST(ConfigLoader, RouteRules) {
  const auto errors = errors_of(R"(
upstreams: {app: {url: "http://127.0.0.1:1"}}
routes:
  - {match: {prefix: /a, exact: /b}, upstream: app}
  - {match: {exact: nope}, upstream: app, scopes: ["has space"], min_role: god}
  - {upstream: app}
)");
  EXPECT_TRUE(has_error(errors, "routes[0].match: exactly one of prefix or exact"));
  EXPECT_TRUE(has_error(errors, "routes[1].match: paths must start with '/'"));
  EXPECT_TRUE(has_error(errors, "routes[1].scopes[0]: invalid scope"));
  EXPECT_TRUE(has_error(errors, "routes[1].min_role"));
  EXPECT_TRUE(has_error(errors, "routes[2].match: is required"));
}

TEST(ConfigLoader, UpstreamUrls) {
  const auto cfg = load_string(R"(
upstreams:
  a: {url: "https://example.internal"}
  b: {url: "http://[::1]:8081/"}
)",
                               env_of({}));
  EXPECT_EQ(cfg.upstreams[0].scheme, url_scheme::https);
  EXPECT_EQ(cfg.upstreams[0].port, 443);
  EXPECT_EQ(cfg.upstreams[1].host, "::1");
  EXPECT_EQ(cfg.upstreams[1].port, 8081);
  EXPECT_TRUE(has_error(errors_of("upstreams: {a: {url: \"http://h:1/path\"}}\n"), "upstreams.a.url"));
}

TEST(ConfigLoader, InvalidYamlIsOneClearError) {
  const auto errors = errors_of("server: {listen: [\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(has_error(errors, "not valid YAML"));
}

}  // namespace
}  // namespace keygate::config

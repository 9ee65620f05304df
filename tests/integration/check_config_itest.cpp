// `keygate check-config` and `keygate version` driven as a process.
#include <gtest/gtest.h>

#include "integration/support/process.hpp"

namespace keygate::itest {
namespace {

TEST(CheckConfig, ShippedExamplesAreValid) {
  for (const char* file : {"config/keygate.example.yaml", "docker/keygate.compose.yaml"}) {
    auto r = run_keygate({"check-config", "--config", std::string(KEYGATE_SOURCE_DIR) + "/" + file},
                         {{"KEYGATE_PG_URL", "postgresql://keygate@127.0.0.1/keygate"}});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
  }
}

TEST(CheckConfig, PrintsEveryErrorAndExitsOne) {
  temp_dir dir;
  const auto path = dir.write("bad.yaml", "server: {listen: nope, bogus: 1}\nroutes: [{upstream: x}]\n");
  auto r = run_keygate({"check-config", "--config", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("server.listen: expected host:port"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("server.bogus: unknown key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("routes[0].match: is required"), std::string::npos) << r.err;
}

TEST(CheckConfig, MissingFileIsAClearError) {
  auto r = run_keygate({"check-config", "--config", "/nonexistent/keygate.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

TEST(Version, PrintsVersion) {
  auto r = run_keygate({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("keygate ", 0), 0u) << r.out;
}

// The allocator the build chose (cmake/allocator.cmake) is the one the binary runs on: a link
// that was dropped or reordered behind the C library would show "glibc" here.
TEST(Version, NamesTheMallocTheBuildLinked) {
  const std::string expected = std::string_view(KEYGATE_BINARY_MALLOC) == "tcmalloc"
                                   ? "malloc tcmalloc (gperftools "
                                   : "malloc glibc ";
  auto r = run_keygate({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(expected), std::string::npos) << "expected '" << expected << "' in: " << r.out;
}

}  // namespace
}  // namespace keygate::itest

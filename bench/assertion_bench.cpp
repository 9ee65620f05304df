// Micro-benchmark of the optional X-Keygate-Assertion (SPEC §4): one ES256 signature plus the
// claims' JSON per authenticated request, with a freshly generated P-256 key.
#include <benchmark/benchmark.h>

#include "keygate/auth/assertion.hpp"

namespace {
using namespace keygate;

void BM_AssertionSign(benchmark::State& state) {
  config::assertion cfg;  // no key file: a generated key
  cfg.audience = "my-app";
  const auth::assertion_signer signer(cfg);
  const auth::assertion_identity id{"acme", "alice", "key_01HX", "", "api_key", {"read", "write:orders"}};
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(signer.sign(id, now));
}
BENCHMARK(BM_AssertionSign);

}  // namespace

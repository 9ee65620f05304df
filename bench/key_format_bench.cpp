// Micro-benchmarks of the request path's credential gate (SPEC §3): format check + CRC-32 +
// SHA-256 of a key (target ≤ 1 µs), and its parts. Keys are genkeys.py vectors.
#include <benchmark/benchmark.h>

#include "keygate/auth/key_format.hpp"

namespace {
using namespace keygate;
const std::vector<config::key_prefix> prefixes = {{"kg_live", true}, {"kg_test", true}, {"wm", false}};
const std::string key = "kg_live_AXLJ8EmQJqOSAOS9VIY5GNjfgMGMnbdi4L81PX";

void BM_ParseChecksumSha256(benchmark::State& state) {
  for (auto _ : state) {
    auto k = auth::parse_key(key, prefixes);
    auto h = auth::sha256_hex(k->key);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseChecksumSha256);

void BM_ParseOnly(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(auth::parse_key(key, prefixes));
}
BENCHMARK(BM_ParseOnly);

void BM_RejectMalformed(benchmark::State& state) {
  const std::string bad = "kg_live_" + std::string(32, 'f');
  for (auto _ : state) benchmark::DoNotOptimize(auth::parse_key(bad, prefixes));
}
BENCHMARK(BM_RejectMalformed);

void BM_Sha256Hex(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(auth::sha256_hex(key));
}
BENCHMARK(BM_Sha256Hex);

void BM_GenerateKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(auth::generate_key("kg_live"));
}
BENCHMARK(BM_GenerateKey);
}  // namespace

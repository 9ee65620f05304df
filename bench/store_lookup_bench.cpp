// find_key_by_hash through the Postgres pool (blocking entry point: same pool, queue, deadline)
// against a local Postgres holding 10,000 keys; reports p50/p99 as counters.
// Needs KEYGATE_TEST_PG_URL (scripts/services.sh); creates and drops its own database.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "keygate/auth/key_format.hpp"
#include "keygate/manage/service.hpp"
#include "postgres/migrator.hpp"
#include "postgres/pg_admin.hpp"
#include "postgres/pg_store.hpp"

namespace {
using namespace keygate;

void BM_StoreFindKeyByHash(benchmark::State& state) {
  const char* admin = std::getenv("KEYGATE_TEST_PG_URL");
  if (!admin) {
    state.SkipWithError("KEYGATE_TEST_PG_URL not set");
    return;
  }
  const std::string url_admin = admin;
  const std::string db = "kg_bench_" + std::to_string(std::random_device{}() % 100000);
  const std::string url = url_admin.substr(0, url_admin.rfind('/') + 1) + db;
  if (!postgres::execute_admin(url_admin, "CREATE DATABASE " + db)) {
    state.SkipWithError("cannot create database");
    return;
  }
  std::vector<std::string> hashes;
  {
    postgres::pg_store store(postgres::pool_options{url, 4, std::chrono::milliseconds(500), 1024});
    (void)postgres::migrate(store);
    manage::no_invalidation sink;
    manage::service_options o;
    o.key_prefixes = {{"kg_live", true}};
    manage::service svc(store, sink, o);
    (void)svc.create_tenant(manage::actor::cli(), {"bench", "bench", true, std::nullopt});
    (void)svc.create_user(manage::actor::cli(), {"bench", "bench", core::role::member});
    manage::import_request r{"bench", "bench", "kg_live", {}};
    for (std::size_t i = 0; i < 10000; ++i) {
      hashes.push_back(auth::sha256_hex_string(auth::generate_key("kg_live")));
      r.items.push_back({i + 1, hashes.back(), "consumer-" + std::to_string(i)});
    }
    (void)svc.import_keys(manage::actor::cli(), r);

    std::vector<double> us;
    std::size_t i = 0, errors = 0;
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      auto k = store.find_key_by_hash_sync(hashes[i++ % hashes.size()]);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (!k) ++errors;
    }
    std::sort(us.begin(), us.end());
    if (!us.empty()) {
      state.counters["p50_us"] = us[us.size() / 2];
      state.counters["p99_us"] = us[us.size() * 99 / 100];
    }
    state.counters["errors"] = static_cast<double>(errors);
  }
  (void)postgres::execute_admin(url_admin, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}
BENCHMARK(BM_StoreFindKeyByHash)->Iterations(20000)->UseRealTime();
}  // namespace

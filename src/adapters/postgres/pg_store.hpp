// keygate::postgres::pg_store — the Postgres implementation of the store interfaces:
// store::key_store (async lookups for the data plane), store::management_store (transactions for
// manage::service) and store::blocking_runner (run blocking service calls from coroutines), as one
// adapters::store_backend.
// All work runs on one pg_pool (bounded queue, one connection per thread, query_timeout deadline).
// No libpqxx type or exception crosses this header.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "keygate/config/config.hpp"
#include "postgres/pg_pool.hpp"
#include "store_backend.hpp"

namespace pqxx {
class connection_base;
}

namespace keygate::postgres {

class pg_store final : public adapters::store_backend {
 public:
  explicit pg_store(pool_options o);
  // From the `store.postgres` config section (pool_size threads, query_timeout).
  static std::unique_ptr<pg_store> open(const config::postgres& cfg);

  boost::asio::awaitable<result<store::key_record>> find_key_by_hash(std::string sha256_hex) override;
  boost::asio::awaitable<result<store::session_record>> find_session_by_hash(std::string sha256_hex) override;
  boost::asio::awaitable<result<void>> touch_last_used(std::vector<std::string> key_ids,
                                                       store::time_point at) override;
  boost::asio::awaitable<result<void>> run(std::function<result<void>()> work) override;
  result<void> transact(const std::function<result<void>(store::store_tx&)>& work) override;
  adapters::migrate_report migrate() override;  // postgres/migrator.hpp
  result<std::vector<adapters::migration_state>> migration_status(std::string& message) override;
  std::string_view kind() const noexcept override { return "postgres"; }

  // Blocking lookups (CLI, tests, benchmarks): same pool, same deadline, same errors.
  result<store::key_record> find_key_by_hash_sync(const std::string& sha256_hex);

  // Runs `work` on a pool thread with its raw connection (migrations, admin statements); `work`
  // arms the worker's deadline itself. Blocks the caller until `work` returns.
  using raw_work = std::function<result<void>(pqxx::connection_base&, pg_worker&)>;
  result<void> with_connection(const raw_work& work);

  const pool_options& options() const noexcept { return pool_.options(); }

 private:
  template <class T>
  result<T> run_blocking(std::function<result<T>(pg_worker&)> f);
  template <class T>
  boost::asio::awaitable<result<T>> run_async(std::function<result<T>(pg_worker&)> f);

  pg_pool pool_;
};

}  // namespace keygate::postgres

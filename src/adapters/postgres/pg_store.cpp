#include "postgres/pg_store.hpp"

#include <pqxx/pqxx>

#include "postgres/migrator.hpp"
#include "postgres/pg_rows.hpp"
#include "postgres/pg_store_tx.hpp"
#include "postgres/queries.hpp"
#include "shared/pool_bridge.hpp"

namespace keygate::postgres {
namespace asio = boost::asio;

namespace {

// Postgres connection strings as URI or key=value; connect_timeout is a backstop for libpq
// itself (keygate's own deadline applies first).
template <class T>
result<T> lookup(pg_worker& w, const queries::statement& s, const std::string& hash,
                 T (*map)(const pqxx::row&, const std::string&)) {
  try {
    w.arm();
    auto& c = w.connection();
    pqxx::nontransaction tx(c);
    const auto r = tx.exec_prepared(std::string(s.name), hash);
    w.disarm();
    if (r.empty()) return errc::not_found;
    return map(r[0], hash);
  } catch (...) {
    w.disarm();
    return w.map_current_exception();
  }
}

store::key_record map_key(const pqxx::row& r, const std::string& hash) {
  return rows::key_record(r, hash);
}
store::session_record map_session(const pqxx::row& r, const std::string&) {
  return rows::session_record(r);
}

}  // namespace

pg_store::pg_store(pool_options o) : pool_(std::move(o)) {}

std::unique_ptr<pg_store> pg_store::open(const config::postgres& cfg) {
  pool_options o;
  o.url = cfg.url;
  o.threads = cfg.pool_size;
  o.query_timeout = cfg.query_timeout;
  return std::make_unique<pg_store>(std::move(o));
}

template <class T>
result<T> pg_store::run_blocking(std::function<result<T>(pg_worker&)> f) {
  if (auto* w = pg_pool::current()) return f(*w);  // already on a pool thread (inside run())
  return adapters::block_on<T>([&](adapters::completion<T> complete) {
    return pool_.try_submit(
        [&f, complete](result<pg_worker*> w) { complete(w ? f(**w) : result<T>(w.error())); },
        steady::now() + pool_.options().query_timeout);
  });
}

// Resumes the awaiting coroutine on its own executor (shared/pool_bridge.hpp).
template <class T>
asio::awaitable<result<T>> pg_store::run_async(std::function<result<T>(pg_worker&)> f) {
  return adapters::resume_on_caller<T>([this, f = std::move(f)](adapters::completion<T> complete) mutable {
    return pool_.try_submit(
        [f = std::move(f), complete](result<pg_worker*> w) { complete(w ? f(**w) : result<T>(w.error())); },
        steady::now() + pool_.options().query_timeout);
  });
}

asio::awaitable<result<store::key_record>> pg_store::find_key_by_hash(std::string sha256_hex) {
  return run_async<store::key_record>([hash = std::move(sha256_hex)](pg_worker& w) {
    return lookup<store::key_record>(w, queries::find_key_by_hash, hash, map_key);
  });
}

asio::awaitable<result<store::session_record>> pg_store::find_session_by_hash(std::string sha256_hex) {
  return run_async<store::session_record>([hash = std::move(sha256_hex)](pg_worker& w) {
    return lookup<store::session_record>(w, queries::find_session_by_hash, hash, map_session);
  });
}

result<store::key_record> pg_store::find_key_by_hash_sync(const std::string& sha256_hex) {
  return run_blocking<store::key_record>([&](pg_worker& w) {
    return lookup<store::key_record>(w, queries::find_key_by_hash, sha256_hex, map_key);
  });
}

asio::awaitable<result<void>> pg_store::touch_last_used(std::vector<std::string> key_ids,
                                                        store::time_point now) {
  return run_async<void>([ids = std::move(key_ids), now](pg_worker& w) -> result<void> {
    try {
      std::string joined;
      for (const auto& id : ids) {
        if (!joined.empty()) joined += ' ';
        joined += id;
      }
      w.arm();
      pqxx::nontransaction tx(w.connection());
      tx.exec_prepared(std::string(queries::touch_last_used.name), joined, rows::micros(now));
      w.disarm();
      return {};
    } catch (...) {
      w.disarm();
      return w.map_current_exception();
    }
  });
}

asio::awaitable<result<void>> pg_store::run(std::function<result<void>()> work) {
  // `work` may reference the caller's frame: the caller stays suspended until it returned.
  return run_async<void>([work = std::move(work)](pg_worker&) { return work(); });
}

result<void> pg_store::transact(const std::function<result<void>(store::store_tx&)>& work) {
  return run_blocking<void>([&](pg_worker& w) -> result<void> {
    result<void> out;
    try {
      w.arm();
      auto& c = w.connection();
      pqxx::work tx(c);
      w.disarm();
      pg_store_tx stx(tx, w);
      out = work(stx);
      if (out) {
        w.arm();
        tx.commit();
        w.disarm();
      }
      // otherwise ~work rolls back
    } catch (...) {
      w.disarm();
      out = w.map_current_exception();
    }
    return out;
  });
}

adapters::migrate_report pg_store::migrate() {
  return postgres::migrate(*this);
}

result<std::vector<adapters::migration_state>> pg_store::migration_status(std::string& message) {
  return postgres::migration_status(*this, message);
}

result<void> pg_store::with_connection(const raw_work& work) {
  return run_blocking<void>([&](pg_worker& w) -> result<void> {
    try {
      w.arm();
      auto& c = w.connection();
      w.disarm();
      return work(c, w);
    } catch (...) {
      w.disarm();
      return w.map_current_exception();
    }
  });
}

}  // namespace keygate::postgres

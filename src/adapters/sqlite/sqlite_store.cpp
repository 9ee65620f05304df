#include "sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include "shared/pool_bridge.hpp"
#include "shared/row_mapping.hpp"
#include "sqlite/queries.hpp"
#include "sqlite/sqlite_migrator.hpp"
#include "sqlite/sqlite_store_tx.hpp"

namespace keygate::sqlite {
namespace asio = boost::asio;

namespace {

// One point lookup on `c`. Throws sqlite_failure (mapped by the caller).
template <class T>
result<T> lookup_or_throw(connection& c, std::string_view sql, const std::string& hash, row_mapper<T> map) {
  c.arm();
  auto s = c.prepare(sql);
  s.bind_all(hash);
  if (!s.step()) return errc::not_found;
  return map(s, hash);
}

template <class T>
result<T> lookup(connection& c, std::string_view sql, const std::string& hash, row_mapper<T> map) {
  try {
    return lookup_or_throw<T>(c, sql, hash, map);
  } catch (...) {
    return c.map_current_exception();
  }
}

// The lookup on the calling thread's own connection; nullopt when it would have had to wait for
// a lock (busy_timeout 0 there): the caller then queues it on the reader lane.
template <class T>
std::optional<result<T>> lookup_here(connection& c, std::string_view sql, const std::string& hash,
                                     row_mapper<T> map) {
  std::optional<result<T>> out;
  try {
    out = lookup_or_throw<T>(c, sql, hash, map);
  } catch (const sqlite_failure& f) {
    const int primary = f.code & 0xff;
    if (primary != SQLITE_BUSY && primary != SQLITE_LOCKED) out = c.map_current_exception();
  } catch (...) {
    out = c.map_current_exception();
  }
  c.disarm();
  return out;
}

store::key_record key_from_row(const statement& s, const std::string& hash) {
  return adapters::rows::key_record(s, hash);
}
store::session_record session_from_row(const statement& s, const std::string&) {
  return adapters::rows::session_record(s);
}

}  // namespace

sqlite_store::sqlite_store(sqlite_options o)
    : options_(std::move(o)),
      writer_(options_, connection::role::writer, 1),
      readers_(options_, connection::role::reader, options_.readers),
      inline_readers_(options_),
      changes_(options_) {}

std::unique_ptr<sqlite_store> sqlite_store::open(const config::sqlite& cfg) {
  sqlite_options o;
  o.path = cfg.path;
  o.readers = cfg.readers;
  o.query_timeout = cfg.query_timeout;
  o.busy_timeout = cfg.busy_timeout;
  return std::make_unique<sqlite_store>(std::move(o));
}

template <class T>
result<T> sqlite_store::run_blocking(lane& l, std::function<result<T>(connection&)> f) {
  // Already on the writer thread (inside run()): use its connection directly.
  if (auto* c = lane::current(); c && c->kind() == connection::role::writer) return f(*c);
  return adapters::block_on<T>([&](adapters::completion<T> complete) {
    return l.try_submit(
        [&f, complete](result<connection*> c) { complete(c ? f(**c) : result<T>(c.error())); },
        steady::now() + options_.query_timeout);
  });
}

// Resumes the awaiting coroutine on its own executor (shared/pool_bridge.hpp).
template <class T>
asio::awaitable<result<T>> sqlite_store::run_async(lane& l, std::function<result<T>(connection&)> f) {
  return adapters::resume_on_caller<T>([this, &l,
                                        f = std::move(f)](adapters::completion<T> complete) mutable {
    return l.try_submit(
        [f = std::move(f), complete](result<connection*> c) { complete(c ? f(**c) : result<T>(c.error())); },
        steady::now() + options_.query_timeout);
  });
}

// Data-plane lookups: on the calling thread first (thread_readers.hpp says why), on the reader
// lane only when that read would wait for a lock.
template <class T>
asio::awaitable<result<T>> sqlite_store::find_by_hash(std::string_view sql, std::string sha256_hex,
                                                      row_mapper<T> from_row) {
  auto here = lookup_here<T>(inline_readers_.for_this_thread(), sql, sha256_hex, from_row);
  if (here) co_return std::move(*here);
  // Named, not a temporary of the co_await expression (GCC 12 coroutine temporaries bug).
  std::function<result<T>(connection&)> on_lane = [sql, hash = std::move(sha256_hex),
                                                   from_row](connection& c) {
    return lookup<T>(c, sql, hash, from_row);
  };
  co_return co_await run_async<T>(readers_, std::move(on_lane));
}

asio::awaitable<result<store::key_record>> sqlite_store::find_key_by_hash(std::string sha256_hex) {
  return find_by_hash<store::key_record>(queries::find_key_by_hash, std::move(sha256_hex), &key_from_row);
}

asio::awaitable<result<store::session_record>> sqlite_store::find_session_by_hash(std::string sha256_hex) {
  return find_by_hash<store::session_record>(queries::find_session_by_hash, std::move(sha256_hex),
                                             &session_from_row);
}

result<store::key_record> sqlite_store::find_key_by_hash_sync(const std::string& sha256_hex) {
  return run_blocking<store::key_record>(readers_, [&](connection& c) {
    return lookup<store::key_record>(c, queries::find_key_by_hash, sha256_hex, &key_from_row);
  });
}

asio::awaitable<result<void>> sqlite_store::touch_last_used(std::vector<std::string> key_ids,
                                                            store::time_point now) {
  // On the writer lane (one writer at a time), through the change watch's connection: the cache
  // is not told to re-read every entry because of keygate's own last_used_at batch.
  return run_async<void>(writer_, [this, ids = std::move(key_ids), now](connection&) -> result<void> {
    return changes_.write_unseen(options_.busy_timeout, [&](connection& c) {
      return in_write_transaction(c, [&]() -> result<void> {
        try {
          for (const auto& id : ids) {
            c.arm();
            auto s = c.prepare(queries::touch_last_used);
            s.bind_all(id, adapters::micros(now));
            s.run();
          }
          return {};
        } catch (...) {
          return c.map_current_exception();
        }
      });
    });
  });
}

asio::awaitable<result<void>> sqlite_store::run(std::function<result<void>()> work) {
  // `work` may reference the caller's frame: the caller stays suspended until it returned.
  return run_async<void>(writer_, [work = std::move(work)](connection&) { return work(); });
}

result<void> sqlite_store::in_write_transaction(connection& c, const std::function<result<void>()>& body) {
  try {
    c.arm();
    c.exec("BEGIN IMMEDIATE");
  } catch (...) {
    return c.map_current_exception();
  }
  result<void> out = body();
  try {
    c.arm();
    if (out)
      c.exec("COMMIT");
    else if (!sqlite3_get_autocommit(c.handle()))  // an interrupted statement may have rolled back
      c.exec("ROLLBACK");
    c.disarm();
  } catch (...) {
    const auto e = c.map_current_exception();
    try {
      if (!sqlite3_get_autocommit(c.handle())) c.exec("ROLLBACK");
    } catch (...) {
      (void)c.map_current_exception();
    }
    if (out) out = e;
  }
  return out;
}

result<void> sqlite_store::transact(const std::function<result<void>(store::store_tx&)>& work) {
  return run_blocking<void>(writer_, [&](connection& c) -> result<void> {
    sqlite_store_tx tx(c);
    return in_write_transaction(c, [&] { return work(tx); });
  });
}

result<void> sqlite_store::with_writer(const raw_work& work) {
  return run_blocking<void>(writer_, [&](connection& c) { return work(c); });
}

adapters::migrate_report sqlite_store::migrate() {
  return sqlite::migrate(*this);
}

result<std::vector<adapters::migration_state>> sqlite_store::migration_status(std::string& message) {
  return sqlite::migration_status(*this, message);
}

}  // namespace keygate::sqlite

#include "store_factory.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "postgres/pg_listener.hpp"
#include "postgres/pg_store.hpp"
#include "sqlite/sqlite_store.hpp"

namespace keygate::adapters {

std::unique_ptr<store_backend> open_store(const config::store& cfg) {
  if (cfg.postgres) return postgres::pg_store::open(*cfg.postgres);
  if (cfg.sqlite) return sqlite::sqlite_store::open(*cfg.sqlite);
  return nullptr;
}

std::unique_ptr<store::change_feed> open_change_feed(const config::store& cfg,
                                                     boost::asio::any_io_executor executor,
                                                     store::change_feed::handlers handlers,
                                                     obs::registry& metrics) {
  if (!cfg.postgres || !cfg.postgres->listen_notify) return nullptr;
  postgres::listener_options o;
  o.url = cfg.postgres->url;
  return postgres::make_pg_listener(std::move(executor), std::move(o), std::move(handlers), metrics);
}

bool store_answers(store::key_store& s) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, s.find_key_by_hash(std::string(64, '0')), boost::asio::use_future);
  io.run();
  const auto r = f.get();
  return r || r.error() == make_error_code(errc::not_found);
}

}  // namespace keygate::adapters

#include "store_factory.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "postgres/pg_store.hpp"
#include "sqlite/sqlite_store.hpp"

namespace keygate::adapters {

std::unique_ptr<store_backend> open_store(const config::store& cfg) {
  if (cfg.postgres) return postgres::pg_store::open(*cfg.postgres);
  if (cfg.sqlite) return sqlite::sqlite_store::open(*cfg.sqlite);
  return nullptr;
}

bool store_answers(store::key_store& s) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, s.find_key_by_hash(std::string(64, '0')), boost::asio::use_future);
  io.run();
  const auto r = f.get();
  return r || r.error() == make_error_code(errc::not_found);
}

}  // namespace keygate::adapters

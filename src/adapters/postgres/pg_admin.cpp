#include "postgres/pg_admin.hpp"

#include <pqxx/pqxx>

#include "postgres/pg_store.hpp"

namespace keygate::postgres {

result<void> execute_admin(const std::string& url, const std::string& sql,
                           std::chrono::milliseconds timeout) {
  pg_store store(pool_options{url, 1, timeout, 4});
  return store.with_connection([&](pqxx::connection_base& c, pg_worker& w) -> result<void> {
    try {
      w.arm();
      pqxx::nontransaction(c).exec(sql);
      w.disarm();
      return {};
    } catch (...) {
      w.disarm();
      return w.map_current_exception();
    }
  });
}

}  // namespace keygate::postgres

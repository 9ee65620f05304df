// keygate::cache::blocking_invalidation_sink — adapts the invalidator (a coroutine on the
// background executor) to manage::invalidation_sink (a blocking call made by the management
// service after it committed). Must never be called on `executor`'s own thread (it would wait
// for itself); the service runs on the CLI thread or the management pool.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "keygate/cache/invalidator.hpp"
#include "keygate/manage/invalidation_sink.hpp"

namespace keygate::cache {

class blocking_invalidation_sink final : public manage::invalidation_sink {
 public:
  blocking_invalidation_sink(invalidator& inv, boost::asio::any_io_executor executor)
      : invalidator_(inv), executor_(std::move(executor)) {}
  result<void> keys_changed(std::span<const std::string> key_hashes) override;
  result<void> sessions_changed(std::span<const std::string> token_hashes) override;
  // The same, returning how many credentials were rewritten (for /cache/invalidate).
  result<std::size_t> invalidate(credential_type type, std::vector<std::string> hashes);

 private:
  invalidator& invalidator_;
  boost::asio::any_io_executor executor_;
};

}  // namespace keygate::cache

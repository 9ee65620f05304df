// keygate::store::key_store — the data plane's view of the credential store (SPEC §4).
//
// Contract:
//  * called from a coroutine on a worker's io_context; the coroutine resumes on its own executor;
//  * `sha256_hex` is 64 lowercase hex (callers hash after the format check);
//  * results: the record, errc::not_found (no such credential; cacheable as negative), or a
//    dependency error — errc::store_unavailable (cannot connect / broken), errc::store_timeout
//    (keygate's own query_timeout passed), errc::store_overloaded (queue full, failed fast).
//    Dependency errors must never be cached as "invalid";
//  * no exception escapes (driver errors are mapped to errc).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "keygate/core/errc.hpp"
#include "keygate/store/records.hpp"

namespace keygate::store {

class key_store {
 public:
  virtual ~key_store() = default;
  virtual boost::asio::awaitable<result<key_record>> find_key_by_hash(std::string sha256_hex) = 0;
  virtual boost::asio::awaitable<result<session_record>> find_session_by_hash(std::string sha256_hex) = 0;
  // Batched, debounced by the caller: sets last_used_at = now on the given keys unless revoked.
  virtual boost::asio::awaitable<result<void>> touch_last_used(std::vector<std::string> key_ids,
                                                               time_point now) = 0;
  // Change tracking, for stores that can tell cheaply (SQLite): how many times this store has
  // seen its data change, counted by checks, the last of them made at or after `not_before`
  // (a new one is made when needed; no I/O beyond a local file). Two equal counts mean nothing
  // was committed between the two checks. Synchronous; nullopt when the store cannot tell (the
  // default) or the check failed — callers then read the store as usual.
  virtual std::optional<std::uint64_t> changes_seen(std::chrono::steady_clock::time_point /*not_before*/) {
    return std::nullopt;
  }
};

// Runs blocking store work (e.g. a manage::service call) off the io threads, on the store's own
// bounded pool, and resumes the caller on its executor. `work` runs on a pool thread where
// management_store::transact() uses that thread's connection directly. The caller's coroutine
// is suspended until `work` has returned, so `work` may capture the caller's locals by reference.
// Errors: whatever `work` returns, or errc::store_overloaded when the queue is full.
class blocking_runner {
 public:
  virtual ~blocking_runner() = default;
  virtual boost::asio::awaitable<result<void>> run(std::function<result<void>()> work) = 0;
};

}  // namespace keygate::store

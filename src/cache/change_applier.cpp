#include "keygate/cache/change_applier.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "keygate/manage/credential_scan.hpp"

namespace keygate::cache {
namespace asio = boost::asio;

namespace {

obs::counter& outcome(obs::registry& r, const char* name) {
  return r
      .counters("keygate_pg_notifications_total",
                "Postgres change notifications (LISTEN keygate_invalidate) by outcome", {"outcome"})
      .with({name});
}

// Plain functions: GCC 12 mishandles braced-list, vector and lambda temporaries inside coroutines.
result<void> done() {
  return {};
}

change_set take_all(change_set& from) {
  change_set out;
  std::swap(out, from);
  return out;
}

std::vector<std::string> copy_of(const std::set<std::string, std::less<>>& s) {
  return {s.begin(), s.end()};
}

// One read transaction: every credential of the batch's users and tenants.
std::function<result<void>()> scan_owners(store::management_store& owners, const change_set& batch,
                                          manage::credential_hashes& found) {
  return [&owners, &batch, &found] {
    return owners.transact([&](store::store_tx& tx) -> result<void> {
      for (const auto& user : batch.users)
        if (auto r = manage::collect_user_credentials(tx, user, found); !r) return r;
      for (const auto& tenant : batch.tenants)
        if (auto r = manage::collect_credentials(tx, tenant, std::nullopt, found); !r) return r;
      return {};
    });
  };
}

}  // namespace

change_applier::change_applier(asio::any_io_executor executor, invalidator& inv, local_cache& local,
                               store::management_store* owners, store::blocking_runner* runner,
                               obs::registry& metrics, change_applier_settings settings)
    : executor_(std::move(executor)),
      invalidator_(inv),
      local_(local),
      owners_(owners),
      runner_(runner),
      settings_(settings),
      retry_timer_(executor_),
      received_(metrics
                    .counters("keygate_pg_notifications_received_total",
                              "Postgres change notifications received (LISTEN keygate_invalidate)", {})
                    .with({})),
      applied_(outcome(metrics, "applied")),
      malformed_(outcome(metrics, "malformed")),
      failed_(outcome(metrics, "failed")),
      dropped_(outcome(metrics, "dropped")) {}

void change_applier::deliver(const std::vector<std::string>& payloads) {
  received_.inc(payloads.size());
  for (const auto& payload : payloads) {
    if (pending_.size() >= settings_.max_pending) {
      dropped_.inc();
      if (!overflowed_) {
        spdlog::warn(
            "more than {} changes waiting to be applied: dropping notifications and the local credential "
            "cache (Redis entries converge within cache.positive_ttl)",
            settings_.max_pending);
        local_.clear();
        overflowed_ = true;
      }
      continue;
    }
    if (!add_change_notice(payload, pending_)) {
      malformed_.inc();
      spdlog::warn("ignored a malformed change notification ({} bytes)", payload.size());
    }
  }
  if (draining_ || pending_.empty()) return;
  draining_ = true;
  asio::co_spawn(executor_, drain(), asio::detached);
}

void change_applier::resync() {
  spdlog::warn("change notifications may have been missed: dropping the local credential cache");
  local_.clear();
}

asio::awaitable<void> change_applier::drain() {
  int attempts = 0;
  auto backoff = settings_.retry_initial;
  while (!pending_.empty()) {
    change_set batch = take_all(pending_);
    auto applying = apply(batch);
    const auto r = co_await std::move(applying);
    if (r) {
      applied_.inc(batch.notices);
      attempts = 0;
      backoff = settings_.retry_initial;
      continue;
    }
    if (++attempts >= settings_.max_attempts) {
      failed_.inc(batch.notices);
      spdlog::error("gave up applying {} change notification(s) after {} attempts: {}", batch.notices,
                    attempts, r.error().message());
      attempts = 0;
      backoff = settings_.retry_initial;
      continue;
    }
    spdlog::warn("applying {} change notification(s) failed ({}); retrying in {} ms", batch.notices,
                 r.error().message(), backoff.count());
    pending_.merge(std::move(batch));  // together with whatever arrived meanwhile
    retry_timer_.expires_after(backoff);
    boost::system::error_code ec;
    co_await retry_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, settings_.retry_max);
  }
  if (overflowed_) {  // notices were dropped until now: entries cached meanwhile may be stale
    local_.clear();
    overflowed_ = false;
  }
  draining_ = false;
}

asio::awaitable<result<void>> change_applier::apply(change_set& batch) {
  if (!batch.users.empty() || !batch.tenants.empty()) {
    auto resolving = resolve_owners(batch);
    const auto r = co_await std::move(resolving);
    if (!r) co_return r;
  }
  auto key_rewrite = rewrite(credential_type::key, copy_of(batch.keys));
  const auto keys = co_await std::move(key_rewrite);
  if (!keys) co_return keys;
  auto session_rewrite = rewrite(credential_type::session, copy_of(batch.sessions));
  co_return co_await std::move(session_rewrite);
}

asio::awaitable<result<void>> change_applier::resolve_owners(change_set& batch) {
  if (!owners_ || !runner_) co_return done();
  manage::credential_hashes found;
  auto work = scan_owners(*owners_, batch, found);
  auto running = runner_->run(std::move(work));
  const auto r = co_await std::move(running);
  if (!r) co_return r;
  batch.keys.insert(found.keys.begin(), found.keys.end());
  batch.sessions.insert(found.sessions.begin(), found.sessions.end());
  co_return done();
}

asio::awaitable<result<void>> change_applier::rewrite(credential_type type, std::vector<std::string> hashes) {
  if (hashes.empty()) co_return done();
  auto invalidating = invalidator_.invalidate(type, std::move(hashes), fanout::local_only);
  const auto r = co_await std::move(invalidating);
  if (!r) co_return r.error();
  co_return done();
}

}  // namespace keygate::cache

// keygate::store::change_feed — the store's own announcements of committed changes to the rows
// cached credentials depend on (Postgres: LISTEN keygate_invalidate, fed by the triggers of
// migrations/0002_invalidation_notify.sql). The feed only transports payloads; what they mean
// is cache::change_notice's business, what is done about them cache::change_applier's.
//
// Threading: bound to one executor; both handlers run on it, never concurrently, never from
// inside the driver. `connected()` may be read from any thread. Destroy the feed on its
// executor's thread or after its io_context stopped running, before the io_context is destroyed;
// no handler runs after destruction.
//
// Delivery: at most once. A change committed while the feed is not listening is never announced,
// so whenever listening starts again after a loss (or after failed first attempts) `on_resync`
// is called once listening is established: the owner must assume it missed notifications.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace keygate::store {

class change_feed {
 public:
  struct handlers {
    std::function<void(std::vector<std::string> payloads)> on_notifications;  // in commit order
    std::function<void()> on_resync;
  };

  virtual ~change_feed() = default;
  // Listening now.
  virtual bool connected() const noexcept = 0;
};

}  // namespace keygate::store

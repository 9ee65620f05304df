// The Redis adapter's metrics, declared in this one place (DESIGN: one place per component).
// References into the process registry, resolved once per client/subscriber; the hot path only
// increments them.
#pragma once

#include "keygate/obs/metrics.hpp"

namespace keygate::redis {

struct redis_metrics {
  explicit redis_metrics(obs::registry& r)
      : timeout(errors(r).with({"redis", "timeout"})),
        unavailable(errors(r).with({"redis", "unavailable"})),
        error_reply(errors(r).with({"redis", "error"})),
        breaker_open(r.gauges("keygate_redis_breaker_open",
                              "Redis clients currently not serving (disconnected or circuit breaker open)",
                              {})
                         .with({})),
        reconnects(r.counters("keygate_redis_reconnects_total",
                              "Redis connections re-established after a loss or failed attempts", {})
                       .with({})) {}

  obs::counter& timeout;      // a command got no answer within its deadline
  obs::counter& unavailable;  // refused fast (not connected / breaker open) or lost mid-command
  obs::counter& error_reply;  // Redis answered with an error reply
  obs::gauge& breaker_open;
  obs::counter& reconnects;

 private:
  static obs::counter_family& errors(obs::registry& r) {
    return r.counters("keygate_dependency_errors_total",
                      "Errors talking to dependencies, by dependency and kind", {"dependency", "kind"});
  }
};

}  // namespace keygate::redis

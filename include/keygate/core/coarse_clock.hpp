// keygate::core::coarse_now — the monotonic clock at the kernel's last tick (CLOCK_MONOTONIC_COARSE,
// typically 1–4 ms old), for deadlines and cache freshness on the request path: it is read
// from the vDSO without touching the TSC, several times cheaper than steady_clock::now() and
// called several times per request. Same epoch as std::chrono::steady_clock on Linux (both
// are CLOCK_MONOTONIC), so the two can be compared; a coarse reading is never later than a
// precise one taken after it. Not for measuring durations (metrics use steady_clock).
#pragma once

#include <time.h>

#include <chrono>

namespace keygate::core {

inline std::chrono::steady_clock::time_point coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                      std::chrono::nanoseconds(ts.tv_nsec)));
}

}  // namespace keygate::core

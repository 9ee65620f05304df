// Integration-test support for the revocation bound across instances (SPEC §6, guarantee 4):
// a credential warm on nodes A and B is revoked by some means while a client hits B every 10 ms;
// B must reject it within 1 s of the revocation returning, and never accept it again. Used by
// internal_propagation_itest.cpp (management API, SQL + /cache/invalidate) and
// internal_notify_itest.cpp (direct SQL only, through the store's change notifications).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/cluster.hpp"

namespace keygate::itest::kc {

// A credential under test: its id and how a client presents it.
struct credential {
  std::string id;
  std::string secret;
  header_list presented;  // bearer(secret) or cookie(secret)
};
credential key_credential(const created_key& k);
credential session_credential(const created_key& s);

// Presents `c` to `n` every 10 ms from its own thread and records what it saw.
class hitter {
 public:
  struct sample {
    steady::time_point start, end;
    int status;
  };
  hitter(const node& n, header_list credential);
  ~hitter() { stop(); }
  hitter(const hitter&) = delete;
  hitter& operator=(const hitter&) = delete;
  void stop();
  std::vector<sample> samples();
  std::optional<sample> first_rejection();  // the first 401, if any

 private:
  unsigned short port_;
  header_list credential_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<sample> samples_;
  std::thread thread_;
};

struct propagation_stats {
  std::vector<double> after_return_ms;  // first rejection on B − the revocation returned (clamped at 0)
  std::vector<double> since_call_ms;    // first rejection on B − the revocation started
  std::vector<double> call_ms;          // the revocation's duration
  int immediate = 0;                    // runs whose first B request after the return was already a 401
  int runs = 0, passed = 0;
};

// One run: `make` a fresh credential (empty id: failed), check A and B accept it, hit B, `revoke`
// it (false: it failed, and ADD_FAILUREd why). B must reject within 1 s of `revoke` returning and
// never accept again. Appends to `st`; false when the run failed.
bool propagation_run(const node& a, const node& b, const std::function<credential()>& make,
                     const std::function<bool(const credential&)>& revoke, propagation_stats& st);

// Prints "[ propagation ] <label>: ..." with p50/p99 and records runs/passed/p50_ms/p99_ms.
void report_propagation(const char* label, const propagation_stats& st, double seconds);

// KEYGATE_ITEST_PROPAGATION_RUNS, default 100.
int propagation_runs();

double ms_between(steady::time_point a, steady::time_point b);

}  // namespace keygate::itest::kc

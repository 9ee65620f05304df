#include "integration/support/propagation.hpp"

#include <cstdio>
#include <cstdlib>

namespace keygate::itest::kc {

credential key_credential(const created_key& k) {
  return {k.id, k.secret, bearer(k.secret)};
}
credential session_credential(const created_key& s) {
  return {s.id, s.secret, cookie(s.secret)};
}

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int propagation_runs() {
  const auto v = env("KEYGATE_ITEST_PROPAGATION_RUNS");
  const int n = v ? std::atoi(v->c_str()) : 100;
  return n > 0 ? n : 100;
}

hitter::hitter(const node& n, header_list credential) : port_(n.port()), credential_(std::move(credential)) {
  thread_ = std::thread([this] {
    prober p(port_);
    while (!stop_) {
      const auto s = steady::now();
      const int st = p.status_with(credential_);
      const auto e = steady::now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        samples_.push_back({s, e, st});
      }
      std::this_thread::sleep_until(s + 10ms);
    }
  });
}

void hitter::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<hitter::sample> hitter::samples() {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

std::optional<hitter::sample> hitter::first_rejection() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : samples_)
    if (s.status == 401) return s;
  return std::nullopt;
}

bool propagation_run(const node& a, const node& b, const std::function<credential()>& make,
                     const std::function<bool(const credential&)>& revoke, propagation_stats& st) {
  const int run = st.runs++;
  const auto c = make();
  if (c.id.empty()) return false;
  if (a.probe_with(c.presented) != 200 || b.probe_with(c.presented) != 200) {
    ADD_FAILURE() << "run " << run << ": the new credential is not accepted on A and B";
    return false;
  }
  hitter h(b, c.presented);
  std::this_thread::sleep_for(25ms);  // B is being hit
  const auto t0 = steady::now();
  const bool revoked = revoke(c);
  const auto t1 = steady::now();
  if (!revoked) {
    ADD_FAILURE() << "run " << run << ": the revocation failed";
    return false;
  }
  // Wait for B to reject (bounded), then keep hitting a little to catch a resurrection.
  const auto deadline = t1 + 1500ms;
  while (!h.first_rejection() && steady::now() < deadline) std::this_thread::sleep_for(2ms);
  std::this_thread::sleep_for(60ms);
  h.stop();
  const auto samples = h.samples();
  const auto rej = h.first_rejection();
  if (!rej) {
    ADD_FAILURE() << "run " << run << ": B still accepts the credential " << ms_between(t1, steady::now())
                  << " ms after the revocation returned";
    return false;
  }
  bool ok = true;
  for (const auto& s : samples) {
    if (s.start > t1 + 1s && s.status != 401) {
      ADD_FAILURE() << "run " << run << ": B answered " << s.status << " " << ms_between(t1, s.start)
                    << " ms after the revocation returned";
      ok = false;
    }
    if (s.start > rej->end && s.status != 401) {
      ADD_FAILURE() << "run " << run << ": B answered " << s.status << " after it had rejected (resurrected)";
      ok = false;
    }
  }
  const double after = std::max(0.0, ms_between(t1, rej->end));
  if (after > 1000) {
    ADD_FAILURE() << "run " << run << ": B rejected only " << after << " ms after the revocation returned";
    ok = false;
  }
  for (const auto& s : samples) {
    if (s.start >= t1) {
      if (s.status == 401) ++st.immediate;
      break;
    }
  }
  st.after_return_ms.push_back(after);
  st.since_call_ms.push_back(ms_between(t0, rej->end));
  st.call_ms.push_back(ms_between(t0, t1));
  if (ok) ++st.passed;
  return ok;
}

void report_propagation(const char* label, const propagation_stats& st, double seconds) {
  std::printf(
      "[ propagation ] %s: B rejected within 1 s in %d of %d runs (%.1f s). After the revocation returned: "
      "p50 %.1f ms, p99 %.1f ms, max %.1f ms; since it started: p50 %.1f ms, p99 %.1f ms; the revocation "
      "took "
      "p50 %.1f ms, p99 %.1f ms; first B request after the return already rejected in %d of %d runs\n",
      label, st.passed, st.runs, seconds, percentile(st.after_return_ms, 50),
      percentile(st.after_return_ms, 99), percentile(st.after_return_ms, 100),
      percentile(st.since_call_ms, 50), percentile(st.since_call_ms, 99), percentile(st.call_ms, 50),
      percentile(st.call_ms, 99), st.immediate, st.runs);
  std::fflush(stdout);
  ::testing::Test::RecordProperty("runs", st.runs);
  ::testing::Test::RecordProperty("passed", st.passed);
  ::testing::Test::RecordProperty("p50_ms", std::to_string(percentile(st.after_return_ms, 50)));
  ::testing::Test::RecordProperty("p99_ms", std::to_string(percentile(st.after_return_ms, 99)));
}

}  // namespace keygate::itest::kc

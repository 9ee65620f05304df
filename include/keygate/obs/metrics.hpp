// keygate::obs metrics — a small Prometheus registry. Families are declared once (by the
// component that owns them, through `registry`), labelled children are created on first use
// and never removed, so the hot path can keep a reference to its counter and just increment
// it (a relaxed atomic add; no lock, no lookup).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace keygate::obs {

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Fixed buckets (seconds), cumulative on render.
class histogram {
 public:
  static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  void observe(double seconds) noexcept;
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

// A family of counters with the same label names. `with` returns a stable reference.
class counter_family {
 public:
  counter_family(std::string name, std::string help, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  counter& with(const std::vector<std::string>& label_values);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<counter>> children_;
};

class gauge_family {
 public:
  gauge_family(std::string name, std::string help, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  gauge& with(const std::vector<std::string>& label_values);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<gauge>> children_;
};

class histogram_family {
 public:
  histogram_family(std::string name, std::string help, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  histogram& with(const std::vector<std::string>& label_values);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<histogram>> children_;
};

// The process's metric families. Components ask for their family by name once (at start-up or
// config load); asking twice for the same name returns the same family.
class registry {
 public:
  counter_family& counters(const std::string& name, const std::string& help, std::vector<std::string> labels);
  gauge_family& gauges(const std::string& name, const std::string& help, std::vector<std::string> labels);
  histogram_family& histograms(const std::string& name, const std::string& help,
                               std::vector<std::string> labels);
  std::string render() const;  // Prometheus text exposition format 0.0.4

 private:
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<counter_family>> counters_;
  std::deque<std::unique_ptr<gauge_family>> gauges_;
  std::deque<std::unique_ptr<histogram_family>> histograms_;
  std::map<std::string, void*> by_name_;
};

}  // namespace keygate::obs

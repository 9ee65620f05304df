#include "keygate/obs/metrics.hpp"

#include <cstdio>

namespace keygate::obs {
namespace {

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

template <class Family, class Child>
Child& child_of(std::mutex& m, std::map<std::vector<std::string>, std::unique_ptr<Child>>& children,
                const std::vector<std::string>& values) {
  std::lock_guard lock(m);
  auto& slot = children[values];
  if (!slot) slot = std::make_unique<Child>();
  return *slot;
}

}  // namespace

void histogram::observe(double seconds) noexcept {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{";
    if (!labels.empty()) {
      out += labels;
      out += ',';
    }
    out += "le=\"";
    out += i < bounds.size() ? format_double(bounds[i]) : "+Inf";
    out += "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string lbl = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += std::string(name) + "_sum" + lbl + " " +
         format_double(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6) + "\n";
  out += std::string(name) + "_count" + lbl + " " + std::to_string(count_.load(std::memory_order_relaxed)) +
         "\n";
}

counter& counter_family::with(const std::vector<std::string>& values) {
  return child_of<counter_family>(mutex_, children_, values);
}

void counter_family::render(std::string& out) const {
  header(out, name_, help_, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [values, c] : children_) {
    out += name_;
    append_labels(out, labels_, values);
    out += ' ' + std::to_string(c->value()) + '\n';
  }
}

gauge& gauge_family::with(const std::vector<std::string>& values) {
  return child_of<gauge_family>(mutex_, children_, values);
}

void gauge_family::render(std::string& out) const {
  header(out, name_, help_, "gauge");
  std::lock_guard lock(mutex_);
  for (const auto& [values, g] : children_) {
    out += name_;
    append_labels(out, labels_, values);
    out += ' ' + std::to_string(g->value()) + '\n';
  }
}

histogram& histogram_family::with(const std::vector<std::string>& values) {
  return child_of<histogram_family>(mutex_, children_, values);
}

void histogram_family::render(std::string& out) const {
  header(out, name_, help_, "histogram");
  std::lock_guard lock(mutex_);
  for (const auto& [values, h] : children_) {
    std::string labels;
    append_labels(labels, labels_, values);
    if (labels.size() >= 2) labels = labels.substr(1, labels.size() - 2);
    h->render(out, name_, labels);
  }
}

namespace {
template <class Family>
Family& family_of(std::mutex& m, std::deque<std::unique_ptr<Family>>& list,
                  std::map<std::string, void*>& by_name, const std::string& name, const std::string& help,
                  std::vector<std::string> labels) {
  std::lock_guard lock(m);
  if (auto it = by_name.find(name); it != by_name.end()) return *static_cast<Family*>(it->second);
  list.push_back(std::make_unique<Family>(name, help, std::move(labels)));
  by_name[name] = list.back().get();
  return *list.back();
}
}  // namespace

counter_family& registry::counters(const std::string& name, const std::string& help,
                                   std::vector<std::string> labels) {
  return family_of(mutex_, counters_, by_name_, name, help, std::move(labels));
}
gauge_family& registry::gauges(const std::string& name, const std::string& help,
                               std::vector<std::string> labels) {
  return family_of(mutex_, gauges_, by_name_, name, help, std::move(labels));
}
histogram_family& registry::histograms(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels) {
  return family_of(mutex_, histograms_, by_name_, name, help, std::move(labels));
}

std::string registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& f : counters_) f->render(out);
  for (const auto& f : gauges_) f->render(out);
  for (const auto& f : histograms_) f->render(out);
  return out;
}

}  // namespace keygate::obs

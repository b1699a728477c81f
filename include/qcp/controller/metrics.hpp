#pragma once

// The Prometheus text exposition format (version 0.0.4, what every Prometheus scrapes), written
// by hand: a few counters, gauges and one histogram need no client library. Every series has a
// fixed, small set of label values (reasons, steps, resources), never one per ServiceAccount:
// the answer stays the same size at 10 or 10,000 ServiceAccounts.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/process_stats.hpp"

namespace qcp::controller {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // A metric family: its # HELP and # TYPE lines ("counter", "gauge", "histogram").
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, const Labels& labels = {});
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Durations in fixed buckets, lock-free: observed by the workers, read by a scrape.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 10> kBounds{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  void observe(std::chrono::microseconds took);
  // The family's _bucket (cumulative, ending at +Inf), _sum and _count.
  void write(PrometheusText& out, std::string_view name, std::string_view help) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_microseconds_{0};
};

// The process_* series under the names every Prometheus client library gives them, so the
// dashboards and alerts written for any exporter's memory, CPU and descriptors fit this one.
void write_process_metrics(PrometheusText& out, const ProcessStats& stats);

}  // namespace qcp::controller

#include "qcp/controller/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace qcp::controller {
namespace {

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escaped(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PrometheusText::sample(std::string_view name, double value, const Labels& labels) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      text_ +=
          fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", labels[i].first, escaped(labels[i].second));
    }
    text_ += '}';
  }
  // Whole numbers as integers (counts, timestamps), the rest in their shortest exact form.
  constexpr double kExactIntegers = 9e15;
  const bool whole = std::abs(value) < kExactIntegers && value == std::floor(value);
  text_ +=
      whole ? fmt::format(" {}\n", static_cast<std::int64_t>(value)) : fmt::format(" {}\n", value);
}

void LatencyHistogram::observe(std::chrono::microseconds took) {
  const double seconds = static_cast<double>(took.count()) / 1e6;
  std::size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds.at(bucket)) {
    ++bucket;
  }
  counts_.at(bucket).fetch_add(1, std::memory_order_relaxed);
  sum_microseconds_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count())),
                              std::memory_order_relaxed);
}

void LatencyHistogram::write(PrometheusText& out, std::string_view name,
                             std::string_view help) const {
  out.family(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_.at(i).load(std::memory_order_relaxed);
    const std::string bound = i < kBounds.size() ? fmt::format("{}", kBounds.at(i)) : "+Inf";
    out.sample(bucket, static_cast<double>(cumulative), {{"le", bound}});
  }
  out.sample(std::string(name) + "_sum",
             static_cast<double>(sum_microseconds_.load(std::memory_order_relaxed)) / 1e6);
  out.sample(std::string(name) + "_count", static_cast<double>(cumulative));
}

void write_process_metrics(PrometheusText& out, const ProcessStats& stats) {
  out.family("process_cpu_seconds_total", "counter", "CPU time used, user and system, in seconds.");
  out.sample("process_cpu_seconds_total", stats.cpu_seconds);
  out.family("process_resident_memory_bytes", "gauge", "Resident set size in bytes.");
  out.sample("process_resident_memory_bytes", static_cast<double>(stats.resident_bytes));
  out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  out.sample("process_virtual_memory_bytes", static_cast<double>(stats.virtual_bytes));
  out.family("process_start_time_seconds", "gauge", "When the process started, Unix time.");
  out.sample("process_start_time_seconds", stats.start_time_seconds);
  out.family("process_open_fds", "gauge", "File descriptors open.");
  out.sample("process_open_fds", static_cast<double>(stats.open_fds));
  if (stats.max_fds > 0) {
    out.family("process_max_fds", "gauge", "The open-file limit (soft).");
    out.sample("process_max_fds", static_cast<double>(stats.max_fds));
  }
}

}  // namespace qcp::controller

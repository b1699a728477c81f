// Issue 25: the Prometheus text format as /metrics writes it: HELP and TYPE before a family's
// samples, label values escaped, whole numbers as integers, and a histogram's buckets
// cumulative up to +Inf with its sum and count.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "qcp/controller/metrics.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using controller::LatencyHistogram;
using controller::PrometheusText;

TEST(PrometheusText, FamiliesSamplesAndEscapedLabels) {
  PrometheusText out;
  out.family("x_total", "counter", "Things counted.");
  out.sample("x_total", 3, {{"reason", "created"}, {"path", "a\"b\\c\nd"}});
  out.sample("x_total", 1e12);
  out.family("y_seconds", "gauge", "A gauge.");
  out.sample("y_seconds", 0.25);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things counted.\n"
            "# TYPE x_total counter\n"
            "x_total{reason=\"created\",path=\"a\\\"b\\\\c\\nd\"} 3\n"
            "x_total 1000000000000\n"
            "# HELP y_seconds A gauge.\n"
            "# TYPE y_seconds gauge\n"
            "y_seconds 0.25\n");
}

TEST(LatencyHistogram, BucketsAreCumulativeAndEndAtInf) {
  LatencyHistogram histogram;
  histogram.observe(30ms);   // <= 0.05
  histogram.observe(50ms);   // <= 0.05: a bound is inclusive
  histogram.observe(700ms);  // <= 1
  histogram.observe(120s);   // beyond every bound
  PrometheusText out;
  histogram.write(out, "h_seconds", "Latency.");
  const std::string& text = out.text();
  EXPECT_THAT(text,
              ::testing::StartsWith("# HELP h_seconds Latency.\n# TYPE h_seconds histogram\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_bucket{le=\"0.05\"} 2\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_bucket{le=\"0.5\"} 2\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_bucket{le=\"1\"} 3\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_bucket{le=\"60\"} 3\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_sum 120.78\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("h_seconds_count 4\n"));
}

}  // namespace
}  // namespace qcp::test

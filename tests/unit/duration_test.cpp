#include "qcp/core/duration.hpp"

#include <gtest/gtest.h>

#include "layers.hpp"

namespace qcp {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

TEST(ParseGoDuration, AcceptsGosGrammar) {
  EXPECT_EQ(parse_go_duration("0"), nanoseconds{0});
  EXPECT_EQ(parse_go_duration("300ms"), 300ms);
  EXPECT_EQ(parse_go_duration("1.5h"), 90min);
  EXPECT_EQ(parse_go_duration("2h45m"), 2h + 45min);
  EXPECT_EQ(parse_go_duration("5m"), 5min);
  EXPECT_EQ(parse_go_duration("-1.5s"), -1500ms);
  EXPECT_EQ(parse_go_duration("+10s"), 10s);
  EXPECT_EQ(parse_go_duration("1us"), 1us);
  EXPECT_EQ(parse_go_duration("1\xC2\xB5s"), 1us);
  EXPECT_EQ(parse_go_duration("1h0m0s"), 1h);
  EXPECT_EQ(parse_go_duration(".5s"), 500ms);
  EXPECT_EQ(parse_go_duration("3300s"), 3300s);
}

TEST(ParseGoDuration, RejectsWhatGoRejects) {
  for (const char* bad :
       {"", "5", "5d", "1h 30m", "h", ".s", "-", "1.5", "10 s", "1e3s", "5M", "9999999999h"}) {
    EXPECT_FALSE(parse_go_duration(bad)) << bad;
  }
}

TEST(FormatSeconds, IsWholeSecondsForTheKubelet) {
  EXPECT_EQ(format_seconds(3300s), "3300s");
  EXPECT_EQ(format_seconds(0s), "0s");
}

TEST(FormatHuman, MatchesGosDurationString) {
  EXPECT_EQ(format_human(3300s), "55m0s");
  EXPECT_EQ(format_human(3600s), "1h0m0s");
  EXPECT_EQ(format_human(42s), "42s");
  EXPECT_EQ(format_human(3661s), "1h1m1s");
  EXPECT_EQ(format_human(-90s), "-1m30s");
}

}  // namespace
}  // namespace qcp

TEST(Rfc3339, ParsesWhatItWritesAndNothingElse) {
  for (const std::int64_t seconds : {0LL, 1796580000LL, 951782400LL /* 2000-02-29 */}) {
    EXPECT_EQ(qcp::core::parse_rfc3339(qcp::core::rfc3339(seconds)), seconds);
  }
  EXPECT_EQ(qcp::core::parse_rfc3339("2026-12-06T18:18:01Z"), 1796581081);
  for (const char* bad : {"", "2026-12-06T18:18:01", "2026-12-06 18:18:01Z", "2026-02-30T00:00:00Z",
                          "2026-12-06T24:00:00Z", "2026-12-06T18:60:01Z", "2026-1a-06T18:18:01Z",
                          "2026-12-06T18:18:01.5Z", "2026-12-06T18:18:01+00:00"}) {
    EXPECT_FALSE(qcp::core::parse_rfc3339(bad)) << bad;
  }
}

TEST(Rfc3339Micro, HasExactlySixFractionalDigitsAsMicroTimeDemands) {
  using std::chrono::microseconds;
  const auto at = [](std::int64_t micros) {
    return std::chrono::system_clock::time_point{microseconds{micros}};
  };
  EXPECT_EQ(qcp::core::rfc3339_micro(at(1796580725734329)), "2026-12-06T18:12:05.734329Z");
  EXPECT_EQ(qcp::core::rfc3339_micro(at(1796580725000000)), "2026-12-06T18:12:05.000000Z");
  EXPECT_EQ(qcp::core::rfc3339_micro(at(1796580725000007)), "2026-12-06T18:12:05.000007Z");
}

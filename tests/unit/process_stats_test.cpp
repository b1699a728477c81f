// The process_* metrics' source: /proc/self/stat read by field number (proc(5)), whatever the
// command's name holds, and nothing made up from text that is not that file.
#include "qcp/core/process_stats.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "layers.hpp"

namespace qcp::process_stats_test {
namespace {

// Fields 1..24 of a real line, with utime 250, stime 50, starttime 1000 ticks, vsize 8 MiB and
// 1024 resident pages.
std::string stat_line(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 5 0 1000 8388608 1024 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

TEST(ProcStat, FieldsAreCountedFromTheLastParenthesisWhateverTheNameHolds) {
  for (const char* comm : {"quay-credentia", "a b) c (d", ")", ""}) {
    const auto stats = parse_proc_stat(stat_line(comm), 100, 4096, 1'700'000'000);
    ASSERT_TRUE(stats.has_value()) << comm;
    EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.0) << comm;
    EXPECT_EQ(stats->resident_bytes, 1024U * 4096U) << comm;
    EXPECT_EQ(stats->virtual_bytes, 8388608U) << comm;
    EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'000'010.0) << comm;
  }
}

TEST(ProcStat, TextThatIsNotTheFileGivesNothing) {
  const std::string line = stat_line("qcp");
  for (const std::string& text :
       {std::string(), std::string("4242 qcp S 1"), line.substr(0, line.find(" 8388608")),
        std::string("1 (x) S 1 2 3 4 5 6 7 8 9 10 ten 0 0 0 0 0 0 0 1000 "
                    "8388608 1024\n")}) {
    EXPECT_FALSE(parse_proc_stat(text, 100, 4096, 0).has_value()) << text;
  }
  EXPECT_FALSE(parse_proc_stat(line, 0, 4096, 0).has_value());
}

TEST(ProcStat, ThisProcessReadsAsItself) {
  const auto stats = read_process_stats();
  ASSERT_TRUE(stats.has_value());
#ifndef QCP_TESTS_UNDER_QEMU_USER  // qemu-user writes /proc/self/stat itself: 0 for memory
  EXPECT_GT(stats->resident_bytes, 0U);
#endif
  EXPECT_GE(stats->virtual_bytes, stats->resident_bytes);
  EXPECT_GE(stats->open_fds, 3U);  // stdin, stdout, stderr at least
  EXPECT_GT(stats->start_time_seconds, 1'600'000'000.0);
}

}  // namespace
}  // namespace qcp::process_stats_test

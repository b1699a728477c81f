// Issue 25, clock steps: the controller stamps a Secret's expiry on the API server's clock, read
// from the Date of its answers, and reads it back on the same clock.
#include "qcp/kube/server_clock.hpp"

#include <gtest/gtest.h>

#include "layers.hpp"

namespace qcp::server_clock_test {
namespace {

using namespace std::chrono_literals;
using kube::ServerClock;
using TimePoint = std::chrono::system_clock::time_point;

// 2026-12-07T18:00:00Z, and its HTTP date.
const TimePoint kSix{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 18h};
constexpr const char* kSixDate = "Mon, 07 Dec 2026 18:00:00 GMT";

TEST(ServerClock, ClocksThatAgreeWithinTheDatesSecondAndAnAnswersTimeAreLeftAlone) {
  ServerClock clock;
  clock.observe(kSixDate, kSix + 1300ms);  // stamped at 18:00:00.9, read 0.4 s later
  EXPECT_EQ(clock.offset(), 0s);
  EXPECT_EQ(clock.now(kSix + 1300ms), kSix + 1300ms);
  clock.observe(kSixDate, kSix - 1s);  // this node a second behind
  EXPECT_EQ(clock.offset(), 0s);
}

TEST(ServerClock, ANodeClockSteppedEitherWayIsReadOnTheServersClock) {
  ServerClock clock;
  clock.observe(kSixDate, kSix - 2h + 200ms);  // this node's clock two hours behind
  EXPECT_EQ(clock.offset(), 2h);
  EXPECT_EQ(clock.now(kSix - 2h + 10s), kSix + 10s);
  clock.observe(kSixDate, kSix + 5min);  // stepped again, five minutes ahead now
  EXPECT_EQ(clock.offset(), -5min);
  EXPECT_EQ(clock.now(kSix + 5min), kSix);
}

TEST(ServerClock, AnAnswerWithoutAValidDateTeachesNothing) {
  ServerClock clock;
  clock.observe(kSixDate, kSix + 1h);
  ASSERT_EQ(clock.offset(), -1h);
  for (const char* date : {"", "yesterday", "Mon, 07 Dec 2026 18:00:00 UTC",
                           "Monday, 07-Dec-26 18:00:00 GMT", "Mon, 31 Feb 2026 18:00:00 GMT"}) {
    clock.observe(std::string(date), kSix);
    EXPECT_EQ(clock.offset(), -1h) << date;
  }
  clock.observe(std::nullopt, kSix);
  EXPECT_EQ(clock.offset(), -1h);
}

}  // namespace
}  // namespace qcp::server_clock_test

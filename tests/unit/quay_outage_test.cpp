// Issue 25: Quay down for longer than a token's life. While it is down one ServiceAccount probes
// it at a short interval and the others keep their backoff; the first exchange that succeeds
// wakes every one that waited, so Secrets that expired in the outage come back within a probe
// interval of Quay, not within each one's backoff (up to minutes).
#include "qcp/controller/quay_outage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace qcp::quay_outage_test {
namespace {

using namespace std::chrono_literals;
using controller::QuayOutage;
using ::testing::UnorderedElementsAre;

const QuayOutage::TimePoint kStart{100h};

TEST(QuayOutage, AFailureMomentsAfterASuccessKeepsItsBackoffAndWakesNobodyLater) {
  QuayOutage outage(30s, kStart);
  // One robot's trouble while the others' exchanges succeed: its backoff holds.
  EXPECT_EQ(outage.unavailable("a/one", kStart + 10s, kStart + 10s + 4min), kStart + 10s + 4min);
  EXPECT_TRUE(outage.answered("b/two", kStart + 20s).empty());
  EXPECT_EQ(outage.waiting(), 1U);
}

TEST(QuayOutage, OnceNothingSucceededForAnIntervalOneKeyProbesAndTheOthersWait) {
  QuayOutage outage(30s, kStart);
  const auto now = kStart + 40s;
  EXPECT_EQ(outage.unavailable("a/one", now, now + 5min), now + 30s);  // the probe
  EXPECT_EQ(outage.unavailable("b/two", now + 1s, now + 4min), now + 4min);
  EXPECT_EQ(outage.unavailable("c/three", now + 2s, now + 10s), now + 10s);  // sooner anyway
  // The probe fails again: it probes again, an interval later.
  EXPECT_EQ(outage.unavailable("a/one", now + 30s, now + 5min), now + 60s);
  EXPECT_EQ(outage.waiting(), 3U);
}

TEST(QuayOutage, TheFirstSuccessAfterTheOutageWakesEveryKeyThatWaited) {
  QuayOutage outage(30s, kStart);
  const auto now = kStart + 40s;
  outage.unavailable("a/one", now, now + 5min);
  outage.unavailable("b/two", now, now + 5min);
  outage.unavailable("c/three", now, now + 5min);
  EXPECT_THAT(outage.answered("a/one", now + 30s), UnorderedElementsAre("b/two", "c/three"));
  EXPECT_EQ(outage.waiting(), 0U);
  // Quay answers again: a failure now is one robot's, with its own backoff.
  EXPECT_EQ(outage.unavailable("b/two", now + 31s, now + 2min), now + 2min);
  EXPECT_TRUE(outage.answered("c/three", now + 32s).empty());
}

TEST(QuayOutage, AProbeThatNeverCameBackIsReplaced) {
  QuayOutage outage(30s, kStart);
  const auto now = kStart + 40s;
  EXPECT_EQ(outage.unavailable("a/one", now, now + 5min), now + 30s);
  // Its ServiceAccount went away before its retry: the next failure probes.
  outage.forget("a/one");
  EXPECT_EQ(outage.unavailable("b/two", now + 1s, now + 5min), now + 31s);
  // b/two's retry is overdue by more than an interval (it was deleted without a word, or the
  // workers were all busy): c/three takes over.
  EXPECT_EQ(outage.unavailable("c/three", now + 70s, now + 5min), now + 100s);
  EXPECT_EQ(outage.waiting(), 2U);
}

TEST(QuayOutage, AControllerStartedWhileQuayIsDownProbesAfterOneInterval) {
  QuayOutage outage(30s, kStart);
  EXPECT_EQ(outage.unavailable("a/one", kStart + 1s, kStart + 3min), kStart + 3min);
  EXPECT_EQ(outage.unavailable("a/one", kStart + 31s, kStart + 3min), kStart + 61s);
}

TEST(QuayOutage, TheProbeIntervalIsAQuarterOfTheRenewalMarginWithinBounds) {
  EXPECT_EQ(QuayOutage::probe_interval(15min), 30s);
  EXPECT_EQ(QuayOutage::probe_interval(80s), 20s);
  EXPECT_EQ(QuayOutage::probe_interval(2s), 1s);
}

}  // namespace
}  // namespace qcp::quay_outage_test

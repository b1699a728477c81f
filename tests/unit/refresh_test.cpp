// The refresh loop behind login --refresh, on a fake clock: renewal before expiry (margin,
// never past half the life left, jittered earlier only), retries with backoff that leave the
// published credential alone, readiness, and a stop that ends it with 0.
#include "qcp/workload/refresh.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/renewal.hpp"

namespace qcp::workload {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::FixedClock;
using ::testing::HasSubstr;

TEST(RenewAfter, RenewsAMarginBeforeExpiryJitteredEarlierOnly) {
  EXPECT_EQ(renew_after(seconds{3600}, seconds{300}, 0.0), seconds{3300});
  EXPECT_EQ(renew_after(seconds{3600}, seconds{300}, 0.999), milliseconds{2970330});
  // A margin longer than half the life left: half the life left, not a spin.
  EXPECT_EQ(renew_after(seconds{4}, seconds{300}, 0.0), seconds{2});
  // Never sooner than a second.
  EXPECT_EQ(renew_after(milliseconds{100}, seconds{300}, 0.0), seconds{1});
  EXPECT_EQ(renew_after(seconds{-5}, seconds{300}, 0.0), seconds{1});
}

struct Script {
  FixedClock clock;
  std::deque<bool> obtains;  // true: succeeds (a one-hour credential), false: fails
  std::vector<std::string> published;
  std::vector<milliseconds> waits;
  std::vector<std::string> notes;
  std::vector<bool> readiness;
  int stop_after_waits = 0;

  RefreshSteps steps() {
    return {
        .obtain =
            [this] {
              const bool ok = obtains.empty() || obtains.front();
              if (!obtains.empty()) {
                obtains.pop_front();
              }
              if (!ok) {
                throw Failure(ExitCode::kLookupFailed, "Quay answered 503");
              }
              return RobotCredential{.registry = "quay.example.com",
                                     .robot = "team+ci",
                                     .token = "token-" + std::to_string(published.size()),
                                     .expires_at = clock.now() + seconds{3600},
                                     .exp = std::nullopt,
                                     .valid_until = clock.monotonic() + seconds{3600}};
            },
        .publish = [this](const RobotCredential& c) { published.push_back(c.token); },
        .wait_or_stop =
            [this](milliseconds duration) {
              waits.push_back(duration);
              clock.sleep_for(duration);
              return static_cast<int>(waits.size()) >= stop_after_waits;
            },
        .uniform = [] { return 0.0; },
        .note = [this](const std::string& line) { notes.push_back(line); },
        .set_ready = [this](bool ready) { readiness.push_back(ready); },
    };
  }
};

TEST(RefreshLoop, RepublishesBeforeEachExpiryAndStopsWithZero) {
  Script script;
  script.stop_after_waits = 3;
  EXPECT_EQ(refresh_loop(script.steps(), {}, script.clock), 0);
  EXPECT_EQ(script.published, (std::vector<std::string>{"token-0", "token-1", "token-2"}));
  EXPECT_EQ(script.waits, (std::vector<milliseconds>(3, seconds{3300})));
  EXPECT_EQ(script.readiness, (std::vector<bool>{true, true, true}));
  ASSERT_EQ(script.notes.size(), 3U);
  EXPECT_EQ(script.notes.front(),
            "refreshed the credential for robot team+ci on quay.example.com: valid for 1h0m0s, "
            "next refresh in 55m0s");
}

TEST(RefreshLoop, AFailureRetriesWithBackoffAndLeavesThePublishedCredential) {
  Script script;
  script.obtains = {true, false, false, false, true};
  script.stop_after_waits = 5;
  refresh_loop(script.steps(),
               {.margin = seconds{300}, .first_retry = seconds{1}, .max_retry = seconds{60}},
               script.clock);
  EXPECT_EQ(script.published, (std::vector<std::string>{"token-0", "token-1"}));
  // uniform() = 0 is the full-jitter floor: waits are at least 100 ms, never a spin.
  EXPECT_EQ(script.waits[1], milliseconds{100});
  EXPECT_THAT(script.notes[1], HasSubstr("Quay answered 503; the published credential stays "
                                         "valid; retrying in"));
  EXPECT_EQ(script.readiness, (std::vector<bool>{true, true}));
}

// A credential obtained once, then renewals failing while at least 2000 s pass per wait, the
// wall clock stepped by `wall_step` each time: readiness must go once it has expired.
void expect_readiness_goes_at_expiry(seconds wall_step) {
  Script script;
  script.obtains = {true, false, false};
  script.stop_after_waits = 3;
  auto steps = script.steps();
  steps.wait_or_stop = [&script, wall_step](milliseconds duration) {
    script.waits.push_back(duration);
    script.clock.sleep_for(std::max(duration, milliseconds{seconds{2000}}));
    script.clock.step_wall(wall_step);
    return static_cast<int>(script.waits.size()) >= script.stop_after_waits;
  };
  refresh_loop(steps, {}, script.clock);
  EXPECT_EQ(script.readiness, (std::vector<bool>{true, false}));
  EXPECT_THAT(script.notes[2], HasSubstr("the published credential has expired"));
}

TEST(RefreshLoop, ReadinessGoesWhenThePublishedCredentialExpiresUnrenewed) {
  expect_readiness_goes_at_expiry(seconds{0});
}

TEST(RefreshLoop, AWallClockSteppedBackKeepsNoExpiredCredentialReady) {
  // Issue 22, item 12: expiry is on the monotonic clock, 20 minutes back each time.
  expect_readiness_goes_at_expiry(-seconds{1200});
}

TEST(RefreshLoop, NothingPublishedYetIsSaidSo) {
  Script script;
  script.obtains = {false};
  script.stop_after_waits = 1;
  refresh_loop(script.steps(), {}, script.clock);
  EXPECT_TRUE(script.published.empty());
  EXPECT_THAT(script.notes.front(), HasSubstr("; nothing published yet; retrying in"));
}

}  // namespace
}  // namespace qcp::workload

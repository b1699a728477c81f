// Issue 25, clock steps: this node's wall clock stepped (an NTP correction, `date -s`, a VM
// resumed) while the controller runs, and between its runs. Renewals are timed on the monotonic
// clock; a Secret's expiry annotation is stamped and read back on the API server's clock (the
// Date of its answers), so neither a running controller nor a restarted one takes a token for
// longer-lived, or shorter-lived, than it is.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "qcp/controller/provision.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::test::controller_clock {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const std::string kExpires(controller::kExpiresKey);

class ClockSteps : public ControllerFixture {
 protected:
  explicit ClockSteps(FakeQuayOptions options = {}) : ControllerFixture(options) {}

  // The token's own exp, and what the Secret's annotation says, in Unix seconds.
  [[nodiscard]] std::pair<long, long> expiry() const {
    const auto secret = api_.secret("team-a", kSecret).value();
    const auto token = token_in(secret["data"][".dockerconfigjson"].get<std::string>());
    const auto exp = decode_jwt_unverified(token).value().payload["exp"].get<long>();
    const auto stamped =
        parse_rfc3339(secret["metadata"]["annotations"][kExpires].get<std::string>()).value();
    return {exp, static_cast<long>(stamped)};
  }
};

class ClockStepsShortTokens : public ClockSteps {
 protected:
  ClockStepsShortTokens() : ClockSteps(short_tokens()) {}
};

// 4-s tokens renewed every 2 s or so, the wall clock stepped an hour ahead and then two back.
TEST_F(ClockStepsShortTokens, RenewalsKeepTheirTimesAndStampsWhenTheWallClockSteps) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  std::set<std::string> tokens;
  int expired = 0;
  long worst_stamp = 0;
  const auto run_for = [&](std::chrono::milliseconds span) {
    for (const auto end = std::chrono::steady_clock::now() + span;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms)) {
      tokens.insert(data());
      const auto [exp, stamped] = expiry();
      expired += Clock::now() >= Clock::time_point(std::chrono::seconds(exp)) ? 1 : 0;
      worst_stamp = std::max(worst_stamp, std::abs(stamped - exp));
    }
  };
  run_for(2s);
  clock_.step_wall(1h);
  const auto before_forward = tokens.size();
  run_for(3s);
  const auto after_forward = tokens.size();
  clock_.step_wall(-2h);
  run_for(4s);  // a token written before the step has expired by the end
  std::printf(
      "wall clock stepped +1 h, then -2 h: %zu tokens, %d samples expired, expiry "
      "annotation at most %ld s from the token's exp\n",
      tokens.size(), expired, worst_stamp);
  EXPECT_EQ(expired, 0);
  // Renewed every 2 s or so throughout: after each step (3 s and 4 s of it) a new token came,
  // however late a loaded machine ran the first.
  EXPECT_GT(after_forward, before_forward) << "no renewal after the step forward";
  EXPECT_GT(tokens.size(), after_forward) << "no renewal after the step back";
  // The annotation kept to the token's own expiry: whole seconds of a Date, of an iat, of the
  // annotation itself, and an answer's time apart at most.
  EXPECT_LE(worst_stamp, 3);
  EXPECT_EQ(count("PullSecretFailed"), 0U);
}

// Quay's one-hour tokens: a restart finds the Secret valid whichever way this node's clock
// stepped meanwhile, and keeps it, as it would with no step at all.
TEST_F(ClockSteps, ARestartAfterAStepEitherWayKeepsTheValidSecret) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && !pull_secrets().is_null(); }));
  const std::string kept = data();
  const auto minted = exchanges();
  for (const auto step : {-2h, 4h}) {  // two hours behind, then two ahead
    stop();
    clock_.step_wall(step);
    start();
    ASSERT_TRUE(eventually([&] { return controller_->synced(); }));
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(exchanges(), minted) << "stepped by " << step.count() << " h";
    EXPECT_TRUE(data() == kept) << "the Secret was written again";
  }
  EXPECT_THAT(log_text_.str(), ::testing::HasSubstr("is valid until its renewal; kept"));
}

// An expiry further away than Quay's tokens live was not stamped by a controller on the API
// server's clock: the Secret is not trusted on it, and minted again.
TEST_F(ClockSteps, AnExpiryFurtherThanATokensLifeIsNotTrustedAfterARestart) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && !pull_secrets().is_null(); }));
  stop();
  const std::string before = data();
  const auto later =
      std::chrono::duration_cast<std::chrono::seconds>((Clock::now() + 3h).time_since_epoch());
  api_.annotate_secret("team-a", kSecret, kExpires, rfc3339(later.count()));
  start();
  EXPECT_TRUE(eventually([&] { return data() != before; }));
  const auto [exp, stamped] = expiry();
  EXPECT_LE(std::abs(stamped - exp), 3);
}

}  // namespace
}  // namespace qcp::test::controller_clock

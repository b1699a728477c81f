// Issue 25: Quay down for longer than a token's life. Every Secret expires in the outage (the
// fake's tokens live 4 s); each ServiceAccount's own backoff has grown to tens of seconds by
// then. Once Quay is back, one probe's success must bring every Secret back within seconds, and
// while it is down the controller must not hammer it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::test::controller_outage {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const std::vector<std::string> kAccounts{"puller", "builder", "tester"};

class QuayOutageRecovery : public ControllerFixture {
 protected:
  // Renewed 2 s before the 4-s tokens expire (probes every 1 s); retries back off from 10 s to
  // a minute, so no Secret would come back by its own backoff within the test's 6 s.
  QuayOutageRecovery() : ControllerFixture(short_tokens()) {
    settings_.renewal = {.renew_before = 2s, .retry_base = 10s, .retry_cap = 60s};
    for (std::size_t i = 1; i < kAccounts.size(); ++i) {
      const std::string robot = "team+" + kAccounts[i];
      quay_.add_robot(robot,
                      {{quay_.issuer_url(), "system:serviceaccount:team-a:" + kAccounts[i], {}}});
      api_.add_service_account("team-a", kAccounts[i], {{kRobotKey, robot}});
    }
    quay_.set_handler([this](const RecordedRequest& request) -> std::optional<Reply> {
      if (!down_ || request.path != "/oauth2/federation/robot/token") {
        return std::nullopt;
      }
      ++refused_;
      Reply reset;
      reset.action = Reply::Action::kReset;
      return reset;
    });
  }

  // The seconds each ServiceAccount's Secret has left (negative: expired; -1000: none).
  [[nodiscard]] std::vector<double> left() const {
    std::vector<double> out;
    for (const auto& name : kAccounts) {
      const auto secret = api_.secret("team-a", name + "-quay-pull");
      if (!secret) {
        out.push_back(-1000);
        continue;
      }
      const auto token = token_in((*secret)["data"][".dockerconfigjson"].get<std::string>());
      const auto expires = decode_jwt_unverified(token).value().payload["exp"].get<long>();
      out.push_back(std::chrono::duration<double>(Clock::time_point(std::chrono::seconds(expires)) -
                                                  Clock::now())
                        .count());
    }
    return out;
  }
  [[nodiscard]] bool all_valid() const {
    const auto each = left();
    return std::all_of(each.begin(), each.end(), [](double seconds) { return seconds > 0; });
  }

  std::atomic<bool> down_{false};
  std::atomic<int> refused_{0};
};

TEST_F(QuayOutageRecovery, EverySecretThatExpiredInTheOutageIsBackWithinSecondsOfQuay) {
  start();
  ASSERT_TRUE(eventually([&] { return all_valid(); }));
  down_ = true;
  std::this_thread::sleep_for(10s);  // every token expires; the backoffs grow
  EXPECT_FALSE(all_valid());
  const int refused_in_outage = refused_;
  const auto waiting = sample("quay_credential_provider_waiting_for_quay");
  down_ = false;
  const auto back = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return all_valid(); }, 6s));
  const auto recovered = std::chrono::duration<double>(std::chrono::steady_clock::now() - back);
  std::printf(
      "Quay down 10 s (tokens live 4 s): %d exchange attempts refused, %.0f waiting; "
      "every Secret valid %.1f s after Quay was back\n",
      refused_in_outage, waiting, recovered.count());
  EXPECT_EQ(waiting, static_cast<double>(kAccounts.size()));
  // Three ServiceAccounts, each exchange up to four attempts: without the probe's bound each
  // would still try no more than its backoff allows; with it, one probes every second.
  EXPECT_LT(refused_in_outage, 80);
  EXPECT_TRUE(eventually([&] { return sample("quay_credential_provider_waiting_for_quay") == 0; }));
}

}  // namespace
}  // namespace qcp::test::controller_outage

// Issue 25: the controller's faults at Quay and in its leadership, end to end
// (controller_faults.hpp): Quay down for longer than a token's life, and the leader killed with
// SIGKILL beside a standby.
#include "controller_faults.hpp"

namespace qcp::test::controller_failover {
namespace {

using namespace std::chrono_literals;
using namespace controller_faults;  // NOLINT(google-build-using-namespace): the suite's fixture
using Json = nlohmann::json;
using Clock = std::chrono::system_clock;

// 10 s tokens renewed 5 s before expiry: Quay down 14 s outlives one and the start of the next.
// The controller's own backoff (5 s doubling to 5 min) would bring the Secret back minutes
// after Quay; its probe (a quarter of the margin, 1.25 s here) must, within seconds.
class QuayFaults : public ControllerFaults {
 protected:
  QuayFaults() : ControllerFaults(10s) {
    quay_.set_handler([this](const RecordedRequest& request) -> std::optional<Reply> {
      if (!quay_down_ || request.path != "/oauth2/federation/robot/token") {
        return std::nullopt;
      }
      Reply reset;
      reset.action = Reply::Action::kReset;  // as a Quay that is not there
      return reset;
    });
  }
  [[nodiscard]] bool secret_valid() const {
    const auto secret = api_.secret("ci", kSecretName);
    if (!secret) {
      return false;
    }
    const auto config = Json::parse(
        base64_decode((*secret)["data"][".dockerconfigjson"].get<std::string>()).value());
    const auto auth = base64_decode(config["auths"][quay_.host()]["auth"].get<std::string>());
    const auto token = auth.value().substr(auth->find(':') + 1);
    return Clock::time_point(std::chrono::seconds(
               decode_jwt_unverified(token).value().payload["exp"].get<long>())) > Clock::now();
  }
  std::atomic<bool> quay_down_{false};
};

TEST_F(QuayFaults, QuayDownLongerThanATokensLifeIsProbedAndTheSecretBackWithinSeconds) {
  double recovered = -1;
  run_through("Quay down 14 s (tokens live 10 s)", [&](ExpiryWatch& watch) {
    watch.reachable(false);
    quay_down_ = true;
    std::this_thread::sleep_for(14s);
    EXPECT_FALSE(secret_valid());
    quay_down_ = false;
    const auto back = std::chrono::steady_clock::now();
    EXPECT_TRUE(eventually([&] { return secret_valid(); }, 30s));
    recovered = std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();
  });
  std::printf("| %-34s | Secret valid again %.1f s after Quay was back (probe every 1.25 s) |\n",
              "", recovered);
  EXPECT_GE(recovered, 0.0);
  EXPECT_LT(recovered, 5.0);  // a probe interval, an exchange's retries, the write
}

// 60 s tokens: a failover (up to the 15 s lease duration and a 2 s retry) fits in the margin.
class LeaderFaults : public ControllerFaults {
 protected:
  LeaderFaults() : ControllerFaults(60s) {}

  // Indexes in the API server's request log of the writes (anything but GET) `token` made.
  std::vector<std::size_t> writes_by(const char* token) const {
    std::vector<std::size_t> at;
    const auto requests = api_.requests();
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].method != "GET" &&
          requests[i].header("Authorization") == "Bearer " + std::string(token)) {
        at.push_back(i);
      }
    }
    return at;
  }
  [[nodiscard]] std::string holder() const {
    const auto lease = api_.lease("qcp-system", "quay-credential-provider-controller");
    return lease ? (*lease)["spec"].value("holderIdentity", "") : "";
  }
};

TEST_F(LeaderFaults, ALeaderKilledIsReplacedWithinTheLeaseDurationAndNoSecretHasTwoWriters) {
  Replica leader(args(kFirstToken, 0), 180s);
  ASSERT_TRUE(eventually([&] { return api_.secret("ci", kSecretName).has_value(); }, 30s));
  const std::string first_holder = holder();
  ASSERT_FALSE(first_holder.empty());
  Replica standby(args(kSecondToken, 0), 180s);
  ExpiryWatch watch(api_, quay_.host());
  std::this_thread::sleep_for(6s);  // the standby has listed, watched and read the Lease
  EXPECT_TRUE(writes_by(kSecondToken).empty());

  const auto killed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(leader.stop(SIGKILL).signal, SIGKILL);
  ASSERT_TRUE(eventually([&] { return holder() != first_holder && !holder().empty(); }, 30s));
  const auto takeover = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at);
  // The new leader serves what comes next at once.
  quay_.add_robot("team+second", {{quay_.issuer_url(), "system:serviceaccount:ci:second", {}}});
  api_.add_service_account("ci", "second", {{"quay.io/federated-robot-account", "team+second"}});
  EXPECT_TRUE(eventually([&] { return api_.secret("ci", "second-quay-pull").has_value(); }, 30s));
  const auto by_leader = writes_by(kFirstToken);
  const auto by_standby = writes_by(kSecondToken);
  ASSERT_FALSE(by_leader.empty());
  ASSERT_FALSE(by_standby.empty());
  EXPECT_LT(by_leader.back(), by_standby.front());  // never two writers at once
  const auto& second = standby.stop();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  std::printf("| %-34s | takeover %.1f s (lease 15 s) | %zu writes before, %zu after | %5.1f s |\n",
              "leader SIGKILL, standby takes over", takeover.count(), by_leader.size(),
              by_standby.size(), watch.least_left_seconds());
  EXPECT_LE(takeover.count(), 15.0 + 2.0 + 2.0);  // lease duration, retry period, slack
  EXPECT_EQ(watch.expired_samples(), 0);
}

}  // namespace
}  // namespace qcp::test::controller_failover

// Issue 21: the controller's loops against the fake API server and the fake Quay over real
// HTTPS: provisioning on sight, renewal from the token's own lifetime, hand edits put back,
// the annotation's removal undone, watches that drop or expire, and a failed renewal that keeps
// the Secret it had.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "no_leak.hpp"
#include "qcp/controller/controller.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class ControllerLoop : public ControllerFixture {
 protected:
  explicit ControllerLoop(FakeQuayOptions options = {}) : ControllerFixture(options) {}
};

TEST_F(ControllerLoop, ProvisionsEachAnnotatedServiceAccountAndTellsItInAnEvent) {
  api_.add_service_account("team-a", "builder");  // no annotation: left alone
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && !pull_secrets().is_null(); }));
  EXPECT_EQ(pull_secrets(), json::parse(R"([{"name":"puller-quay-pull"}])"));
  ASSERT_TRUE(eventually([&] { return count("PullSecretCreated") == 1; }));
  const auto event = api_.events().front();
  EXPECT_EQ(event["involvedObject"]["name"], "puller");
  EXPECT_EQ(event["type"], "Normal");
  EXPECT_THAT(event["message"].get<std::string>(), HasSubstr("robot team+puller, valid until"));
  EXPECT_FALSE(api_.secret("team-a", "builder-quay-pull"));

  // One added later is provisioned from the watch.
  quay_.add_robot("team+builder",
                  {{quay_.issuer_url(), "system:serviceaccount:team-a:builder", {}}});
  api_.annotate("team-a", "builder", kRobotKey, "team+builder");
  EXPECT_TRUE(eventually([&] { return api_.secret("team-a", "builder-quay-pull").has_value(); }));
}

// What docs/controller.md tells users: pods copy imagePullSecrets only when they are created.
TEST_F(ControllerLoop, APodCreatedBeforeTheSecretLacksItAndOneCreatedAfterHasIt) {
  ASSERT_TRUE(api_.create_pod("team-a", "before", "puller"));
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && !pull_secrets().is_null(); }));
  const auto after = api_.create_pod("team-a", "after", "puller").value();
  EXPECT_EQ(after["spec"]["imagePullSecrets"], json::parse(R"([{"name":"puller-quay-pull"}])"));
  EXPECT_FALSE(api_.pod("team-a", "before").value()["spec"].contains("imagePullSecrets"));
  // A pod that names its own pull Secrets gets only those (kube-api/07b).
  const auto own = api_.create_pod("team-a", "own", "puller", {"own-secret"}).value();
  EXPECT_EQ(own["spec"]["imagePullSecrets"], json::parse(R"([{"name":"own-secret"}])"));
}

TEST_F(ControllerLoop, PutsBackASecretEditedOrDeletedByHand) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  api_.edit_secret_data("team-a", kSecret, R"({"auths":{}})");
  ASSERT_TRUE(eventually([&] { return count("PullSecretRestored") == 1; }));
  EXPECT_FALSE(token_in(data()).empty());  // the robot's token again, not the edit

  api_.delete_secret("team-a", kSecret);
  ASSERT_TRUE(eventually([&] { return count("PullSecretRestored") == 2; }));
  EXPECT_FALSE(data().empty());
}

TEST_F(ControllerLoop, RemovingTheAnnotationRemovesTheSecretAndOnlyItsReference) {
  start();
  ASSERT_TRUE(eventually([&] { return !pull_secrets().is_null(); }));
  // Someone else's entry, added after ours: kept.
  ASSERT_TRUE(eventually([&] { return count("PullSecretCreated") == 1; }));
  api_.set_image_pull_secrets("team-a", "puller", {kSecret, "registry-mirror"});
  api_.annotate("team-a", "puller", kRobotKey, std::nullopt);
  ASSERT_TRUE(eventually([&] { return !api_.secret("team-a", kSecret).has_value(); }));
  ASSERT_TRUE(eventually([&] { return count("PullSecretRemoved") == 1; }));
  EXPECT_EQ(pull_secrets(), json::parse(R"([{"name":"registry-mirror"}])"));
}

TEST_F(ControllerLoop, AnInvalidAnnotationIsAWarningEventAndNothingIsWritten) {
  api_.annotate("team-a", "puller", kRobotKey, "not a robot");
  start();
  ASSERT_TRUE(eventually([&] { return count("InvalidAnnotation") == 1; }));
  EXPECT_THAT(api_.events().front()["message"].get<std::string>(),
              HasSubstr("is not a Quay robot name"));
  EXPECT_FALSE(api_.secret("team-a", kSecret));
  EXPECT_EQ(exchanges(), 0U);
}

TEST_F(ControllerLoop, KeepsWatchingThroughDroppedStreamsAndExpiredHistory) {
  std::vector<FederationBinding> bindings;
  for (const char* name : {"puller", "second", "third"}) {
    bindings.push_back(
        {quay_.issuer_url(), std::string("system:serviceaccount:team-a:") + name, {}});
  }
  quay_.add_robot(kRobot, bindings);
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  api_.end_watches();
  api_.add_service_account("team-a", "second", {{kRobotKey, kRobot}});
  EXPECT_TRUE(eventually([&] { return api_.secret("team-a", "second-quay-pull").has_value(); }));
  api_.forget_watch_history();
  api_.end_watches();
  api_.add_service_account("team-a", "third", {{kRobotKey, kRobot}});
  EXPECT_TRUE(eventually([&] { return api_.secret("team-a", "third-quay-pull").has_value(); }));
}

TEST_F(ControllerLoop, ServesWhatChangedWhileTheApiServerWasDownOnceItIsBack) {
  quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}},
                           {quay_.issuer_url(), "system:serviceaccount:team-a:later", {}}});
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  api_.go_down(true);
  std::this_thread::sleep_for(1500ms);  // the watches fail and back off
  api_.add_service_account("team-a", "later", {{kRobotKey, kRobot}});
  api_.go_down(false);
  EXPECT_TRUE(eventually([&] { return api_.secret("team-a", "later-quay-pull").has_value(); }));
  EXPECT_THAT(log_text_.str(), HasSubstr("watching /api/v1/serviceaccounts failed"));
}

TEST_F(ControllerLoop, ARestartedControllerKeepsAValidSecretInsteadOfMintingAgain) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && !pull_secrets().is_null(); }));
  stop();
  const std::string kept = data();
  const auto minted = exchanges();
  start();
  ASSERT_TRUE(eventually([&] { return controller_->synced(); }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(exchanges(), minted);
  EXPECT_EQ(data(), kept);
  EXPECT_THAT(log_text_.str(), HasSubstr("is valid until its renewal; kept"));
}

class ShortTokens : public ControllerLoop {
 protected:
  ShortTokens() : ControllerLoop(short_tokens()) {}
};

TEST_F(ShortTokens, QuayDownForAWhileIsRetriedWithBackoffAndTheSecretRenewedWhenItIsBack) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  const std::string before = data();
  // Quay answers 503 to the next exchanges: a renewal or two fail (each with its retries).
  std::vector<Reply> unavailable(12, Reply::html(503, "<html>Service Unavailable</html>"));
  quay_.script(unavailable);
  ASSERT_TRUE(eventually([&] { return count("PullSecretFailed") >= 1; }));
  json warning;
  for (const auto& event : api_.events()) {
    if (event["reason"] == "PullSecretFailed") {
      warning = event;
    }
  }
  EXPECT_THAT(warning["message"].get<std::string>(), HasSubstr("503"));
  EXPECT_TRUE(eventually([&] { return quay_.pending_replies() == 0 && data() != before; }));
}

TEST_F(ShortTokens, RenewsFromTheTokensOwnLifetimeAcrossSeveralExpiries) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  std::set<std::string> seen{data()};
  ASSERT_TRUE(eventually(
      [&] {
        seen.insert(data());
        return seen.size() >= 4;  // three renewals of a 4 s token
      },
      90s));
  EXPECT_TRUE(
      eventually([&] { return count("PullSecretRefreshed") >= 3; }));  // told after the write
  EXPECT_EQ(count("PullSecretFailed"), 0U);
  std::vector<std::string> tokens;
  for (const auto& each : seen) {
    tokens.push_back(token_in(each));
  }
  expect_no_leak(log_text_.str(), tokens);
  expect_no_leak(json(api_.events()).dump(), tokens);
}

// 10 s tokens renewed 5 s before they expire: room for a failed renewal and its retry.
class TenSecondTokens : public ControllerLoop {
 protected:
  static FakeQuayOptions ten_seconds() {
    FakeQuayOptions options;
    options.token_lifetime = 10s;
    return options;
  }
  TenSecondTokens() : ControllerLoop(ten_seconds()) {
    settings_.renewal = {.renew_before = 5s, .retry_base = 30s, .retry_cap = 60s};
  }
};

// The backoff may reach minutes (the first retry here would come 15 to 30 s later); a token
// running out is retried before it expires anyway.
TEST_F(TenSecondTokens, ARetryComesBeforeTheTokenExpiresHoweverLongTheBackoff) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  const std::string before = data();
  const auto expires = decode_jwt_unverified(token_in(before)).value().payload["exp"].get<long>();
  // The next renewal fails whole (every attempt of its exchange), the one after succeeds.
  quay_.script(std::vector<Reply>(4, Reply::html(503, "<html>Service Unavailable</html>")));
  ASSERT_TRUE(eventually([&] { return count("PullSecretFailed") >= 1; }));
  EXPECT_TRUE(eventually([&] { return data() != before; }, 10s));
  EXPECT_LT(std::chrono::system_clock::now(),
            std::chrono::system_clock::time_point(std::chrono::seconds(expires)));
}

TEST_F(ShortTokens, AFailedRenewalKeepsTheSecretItHadAndSaysWhyInAWarningEvent) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  const std::string before = data();
  quay_.remove_robot(kRobot);
  ASSERT_TRUE(eventually([&] { return count("PullSecretFailed") >= 2; }));
  EXPECT_EQ(data(), before);
  json warning;
  for (const auto& event : api_.events()) {
    if (event["reason"] == "PullSecretFailed") {
      warning = event;
    }
  }
  EXPECT_EQ(warning["type"], "Warning");
  EXPECT_THAT(warning["message"].get<std::string>(), HasSubstr("a Secret already written is kept"));
  // Back: renewed again.
  quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
  EXPECT_TRUE(eventually([&] { return data() != before; }));
}

}  // namespace
}  // namespace qcp::test

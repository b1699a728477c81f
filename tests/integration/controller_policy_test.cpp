// Issue 23: the controller on the node's credential policy (docs/policy.md), against the fake
// API server and the fake Quay over real HTTPS: a rule's default robot for a ServiceAccount that
// names none, a robot the rule refuses (and a Secret it had withdrawn when an edit revokes it),
// several robots in one Secret under organisation-scoped keys, quayHosts, and edits that break
// the file or change its annotation keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "qcp/controller/policy_file.hpp"
#include "temp_dir.hpp"

namespace qcp::test {
namespace controller_policy_test {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kOtherRobot = "other+puller";

std::string policy_text(const std::string& rules, const std::string& annotations = "") {
  return "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n" + annotations +
         "rules:\n" + rules;
}

class ControllerPolicy : public ControllerFixture {
 protected:
  ControllerPolicy() {
    quay_.add_robot(kOtherRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
    quay_.add_robot("team+web", {{quay_.issuer_url(), "system:serviceaccount:team-a:web", {}}});
    settings_.policy_reread = 100ms;
  }
  // Writes the policy file (replaced whole, as a ConfigMap's swap does) and, the first time,
  // gives it to the controller as --policy would.
  void write_policy(const std::string& text) {
    const auto path = dir_.path() / "policy.yaml";
    { std::ofstream(path.string() + ".new") << text; }
    std::filesystem::rename(path.string() + ".new", path);
    if (!settings_.provision.policy) {
      settings_.provision.policy =
          std::make_shared<controller::PolicyFile>(Environment::from_process(), path.string());
    }
  }
  [[nodiscard]] std::optional<json> auths_of(const std::string& ns, const std::string& name) const {
    const auto secret = api_.secret(ns, name);
    if (!secret) {
      return std::nullopt;
    }
    const auto data = (*secret)["data"][".dockerconfigjson"].get<std::string>();
    return json::parse(base64_decode(data).value())["auths"];
  }
  [[nodiscard]] static std::string user_of(const json& entry) {
    const auto auth = base64_decode(entry["auth"].get<std::string>()).value();
    return auth.substr(0, auth.find(':'));
  }

  TempDir dir_{"qcp-controller-policy"};
};

TEST_F(ControllerPolicy, AServiceAccountThatNamesNoRobotGetsTheRulesDefault) {
  api_.add_service_account("team-a", "web");
  api_.add_service_account("team-b", "web");  // no rule covers it: nothing for it
  write_policy(
      policy_text("  - namespaces: [team-a]\n    robots: [\"team+*\"]\n"
                  "    defaultRobot: team+web\n"));
  start();
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", "web-quay-pull").has_value(); }));
  const auto secret = *api_.secret("team-a", "web-quay-pull");
  EXPECT_EQ(secret["metadata"]["annotations"]["quay-credential-provider/robot"], "team+web");
  EXPECT_EQ(user_of((*auths_of("team-a", "web-quay-pull"))[quay_.host()]), "team+web");
  // The annotated one keeps its own robot, which the rule allows.
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", kSecret).has_value(); }));
  EXPECT_EQ(user_of((*auths_of("team-a", kSecret))[quay_.host()]), kRobot);
  EXPECT_FALSE(api_.secret("team-b", "web-quay-pull"));
  EXPECT_EQ(count("RobotNotAllowed"), 0U);
}

TEST_F(ControllerPolicy, ARobotTheRuleRefusesIsAWarningEventAndNothingReachesQuay) {
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"other+*\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return count("RobotNotAllowed") == 1; }));
  EXPECT_THAT(events_with("RobotNotAllowed").front()["message"].get<std::string>(),
              HasSubstr("the robot team+puller is not allowed for the service account "
                        "team-a/puller by rule 1 ("));
  EXPECT_FALSE(api_.secret("team-a", kSecret));
  EXPECT_EQ(exchanges(), 0U);
}

TEST_F(ControllerPolicy, AnEditThatRevokesARobotRemovesTheSecretItHad) {
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"team+*\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", kSecret).has_value(); }));
  write_policy(policy_text("  - namespaces: [team-b]\n    robots: [\"team+*\"]\n"));
  ASSERT_TRUE(eventually([&] { return !api_.secret("team-a", kSecret).has_value(); }));
  ASSERT_TRUE(eventually([&] { return count("RobotNotAllowed") == 1; }));
  EXPECT_THAT(events_with("RobotNotAllowed").front()["message"].get<std::string>(),
              HasSubstr("no rule of the policy"));
  // Recorded once the Secret is gone: it may come a moment after.
  ASSERT_TRUE(eventually([&] { return count("PullSecretRemoved") == 1; }));
  EXPECT_THAT(events_with("PullSecretRemoved").front()["message"].get<std::string>(),
              HasSubstr("the policy does not allow what it asks for"));
  EXPECT_TRUE(eventually([&] { return pull_secrets().is_null() || pull_secrets().empty(); }));
  EXPECT_THAT(log_text_.str(), HasSubstr("changed: 1 rules now in force"));
}

TEST_F(ControllerPolicy, SeveralRobotsShareOneSecretEachUnderItsOrganisationsPath) {
  api_.annotate("team-a", "puller", kRobotKey, std::string(kRobot) + "," + kOtherRobot);
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"team+*\", \"other+*\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", kSecret).has_value(); }));
  const auto auths = *auths_of("team-a", kSecret);
  ASSERT_EQ(auths.size(), 2U) << auths.dump();
  // With the slash: "host/team" would also match host/team2/... as the kubelet matches keys.
  EXPECT_EQ(user_of(auths[quay_.host() + "/team/"]), kRobot);
  EXPECT_EQ(user_of(auths[quay_.host() + "/other/"]), kOtherRobot);
  EXPECT_EQ((*api_.secret("team-a",
                          kSecret))["metadata"]["annotations"]["quay-credential-provider/robot"],
            "team+puller,other+puller");
  EXPECT_EQ(exchanges(), 2U);
}

TEST_F(ControllerPolicy, OneRobotQuayRefusesLeavesNoSecretAndNamesTheRobot) {
  api_.annotate("team-a", "puller", kRobotKey, std::string(kRobot) + ",nobody+puller");
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"*+puller\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return count("PullSecretFailed") >= 1; }));
  EXPECT_THAT(events_with("PullSecretFailed").front()["message"].get<std::string>(),
              HasSubstr("robot nobody+puller: "));
  EXPECT_FALSE(api_.secret("team-a", kSecret));
}

TEST_F(ControllerPolicy, QuayHostsRestrictWhereTokensGo) {
  write_policy(policy_text(
      "  - namespaces: [team-a]\n    robots: [\"team+*\"]\n    quayHosts: [quay.example.com]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return count("RobotNotAllowed") == 1; }));
  EXPECT_THAT(events_with("RobotNotAllowed").front()["message"].get<std::string>(),
              HasSubstr("the Quay host " + quay_.host() + " is not among the quayHosts of rule 1"));
  EXPECT_EQ(exchanges(), 0U);
}

// A host annotation that is no host is refused without being echoed: it could hold anything.
TEST_F(ControllerPolicy, AMalformedHostAnnotationIsNeverEchoed) {
  api_.annotate("team-a", "puller", "quay.io/host", "https://quay.example.com/?t=s3cr3t-t0ken");
  write_policy(policy_text(
      "  - namespaces: [team-a]\n    robots: [\"team+*\"]\n    quayHosts: [quay.example.com]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return count("InvalidAnnotation") == 1; }));
  const auto message = events_with("InvalidAnnotation").front()["message"].get<std::string>();
  EXPECT_THAT(message, HasSubstr("annotation quay.io/host is not a valid host[:port]"));
  EXPECT_THAT(message + log_text_.str(), Not(HasSubstr("s3cr3t")));
  EXPECT_EQ(exchanges(), 0U);
}

TEST_F(ControllerPolicy, ABrokenEditLeavesTheLastGoodPolicyInForce) {
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"team+*\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", kSecret).has_value(); }));
  write_policy(policy_text("  - namespaces: [team-a]\n    robts: [\"team+*\"]\n"));
  ASSERT_TRUE(eventually(
      [&] { return log_text_.str().find("policy not changed: ") != std::string::npos; }));
  EXPECT_THAT(log_text_.str(), HasSubstr("policy.yaml:5:"));
  EXPECT_TRUE(api_.secret("team-a", kSecret).has_value());
  EXPECT_EQ(controller_->stuck_worker(), "");  // a restart would not mend it
}

TEST_F(ControllerPolicy, NewAnnotationKeysAskForARestartAndChangeNothingUntilThen) {
  write_policy(policy_text("  - namespaces: [team-a]\n    robots: [\"team+*\"]\n"));
  start();
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", kSecret).has_value(); }));
  write_policy(policy_text("  - namespaces: [team-b]\n    robots: [\"team+*\"]\n",
                           "annotations:\n  robot: example.com/robot\n"));
  ASSERT_TRUE(eventually([&] { return !controller_->stuck_worker().empty(); }));
  EXPECT_THAT(controller_->stuck_worker(),
              HasSubstr("the annotation keys changed (robot example.com/robot"));
  EXPECT_TRUE(api_.secret("team-a", kSecret).has_value());
}

TEST(ControllerPolicyFile, AMistakeStopsTheControllerAtStartNamingFileAndLine) {
  const TempDir dir("qcp-controller-policy");
  const auto path = (dir.path() / "policy.yaml").string();
  std::ofstream(path) << policy_text("  - namespaces: [team-a]\n    robots: [\"team +x\"]\n");
  try {
    controller::PolicyFile file(Environment::from_process(), path);
    FAIL() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    EXPECT_THAT(failure.what(), HasSubstr(path + ":5: "));
  }
}

}  // namespace controller_policy_test
}  // namespace qcp::test

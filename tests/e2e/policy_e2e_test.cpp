// Issue 23: the built binary with --policy, as the kubelet runs it, against a fake Quay with
// robots in two organisations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kubelet_decoder.hpp"
#include "kubelet_keyring.hpp"
#include "plugin_fixture.hpp"

namespace qcp::test {
namespace policy_e2e {
namespace {

using ::testing::HasSubstr;

constexpr const char* kTeamA = "team_a+puller";
constexpr const char* kTeamB = "team_b+puller";

std::string request_with(const std::string& image, const std::string& token,
                         const nlohmann::json& annotations) {
  nlohmann::ordered_json json;
  json["kind"] = "CredentialProviderRequest";
  json["apiVersion"] = kV1;
  json["image"] = image;
  json["serviceAccountToken"] = token;
  if (!annotations.empty()) {
    json["serviceAccountAnnotations"] = annotations;
  }
  return json.dump() + "\n";
}

class PolicyBinary : public PluginBinary {
 protected:
  PolicyBinary() {
    const FederationBinding app_puller{quay_.issuer_url(), "system:serviceaccount:app:puller", {}};
    quay_.add_robot(kTeamA, {app_puller});
    quay_.add_robot(kTeamB, {app_puller});
    policy_ = (dir_ / "policy.yaml").string();
    write_policy(
        "  - namespaces: [app, app-*]\n"
        "    robots: [\"team_a+*\", \"team_b+*\"]\n"
        "    defaultRobot: team_a+puller\n");
  }

  void write_policy(const std::string& rules) const {
    std::ofstream(policy_) << "apiVersion: quay-credential-provider/v1\n"
                              "kind: CredentialPolicy\n"
                              "rules:\n"
                           << rules;
  }

  ProcessResult call(const std::string& image, const nlohmann::json& annotations) {
    return exec(request_with(quay_.host() + image, token_, annotations), {"--policy", policy_});
  }

  static nlohmann::json robots(const std::string& list) {
    return {{"quay.io/federated-robot-account", list}};
  }

  std::string policy_;
};

TEST_F(PolicyBinary, AnAllowedRobotAndTheDefaultRobotGetCredentials) {
  auto result = call("/team_b/app", robots(kTeamB));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  EXPECT_EQ(nlohmann::json::parse(result.out)["auth"][quay_.host()]["username"], kTeamB);

  result = call("/team_a/app", nlohmann::json::object());  // no annotation: the default robot
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["auth"][quay_.host()]["username"], kTeamA);
}

TEST_F(PolicyBinary, ARefusalNamesTheRuleAndSendsNothingToQuay) {
  write_policy("  - namespaces: [app]\n    robots: [\"team_a+*\"]\n");
  const auto result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("the robot team_b+puller is not allowed for the service "
                                    "account app/puller by rule 1 (" +
                                    policy_ + ":4)"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  expect_no_leak(result.err, {token_});
  EXPECT_EQ(quay_.request_count(), 0U);
}

TEST_F(PolicyBinary, AnEditTakesEffectOnTheNextCallAndABrokenPolicyNamesItsLine) {
  ASSERT_EQ(call("/team_b/app", robots(kTeamB)).exit_code, 0);
  write_policy("  - namespaces: [other]\n    robots: [\"*+*\"]\n");
  auto result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_THAT(result.err, HasSubstr("no rule of the policy " + policy_ +
                                    " covers the service account app/puller"));
  write_policy("  - namespaces: [app]\n    robot: [\"*+*\"]\n");
  result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr(policy_ + ":5: unknown field \"robot\""));
  std::filesystem::remove(policy_);
  result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("cannot read " + policy_));
  EXPECT_EQ(quay_.request_count(), 1U);
}

// The node's policy decides where tokens go: one another user could have planted or swapped is
// refused, as a private file is.
TEST_F(PolicyBinary, APolicyOthersCouldChangeIsRefused) {
  std::filesystem::permissions(dir_, std::filesystem::perms(0777));
  auto result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("is in a directory that group or others may write to"));
  std::filesystem::permissions(dir_, std::filesystem::perms(0700));
  const auto real = dir_ / "real-policy.yaml";
  std::filesystem::rename(policy_, real);
  std::filesystem::create_symlink(real, policy_);
  result = call("/team_b/app", robots(kTeamB));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("is a symbolic link"));
  EXPECT_EQ(quay_.request_count(), 0U);
}

// Two robots: one key per organisation, each ending in '/', so that the kubelet's raw-prefix
// match never hands one organisation's robot to another's images.
TEST_F(PolicyBinary, SeveralRobotsGetOneKeyPerOrganisationThatDoesNotBleed) {
  const auto result = call("/team_a/app", robots(std::string(kTeamA) + "," + kTeamB));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  const auto response = nlohmann::json::parse(result.out);
  EXPECT_EQ(response["cacheKeyType"], "Registry");
  const auto& auth = response["auth"];
  const std::string key_a = quay_.host() + "/team_a/";
  const std::string key_b = quay_.host() + "/team_b/";
  ASSERT_EQ(auth.size(), 2U) << result.out;
  EXPECT_EQ(auth[key_a]["username"], kTeamA);
  EXPECT_EQ(auth[key_b]["username"], kTeamB);
  EXPECT_NE(auth[key_a]["password"], auth[key_b]["password"]);

  const auto host = quay_.host();
  EXPECT_EQ(kubelet_keys_for(auth, host + "/team_a/app"), std::vector<std::string>{key_a});
  EXPECT_EQ(kubelet_keys_for(auth, host + "/team_b/lib/x"), std::vector<std::string>{key_b});
  EXPECT_TRUE(kubelet_keys_for(auth, host + "/team_a2/app").empty());
  EXPECT_TRUE(kubelet_keys_for(auth, host + "/team_b_x/app").empty());
  EXPECT_TRUE(kubelet_keys_for(auth, host + "/other/app").empty());
  EXPECT_TRUE(kubelet_keys_for(auth, "elsewhere.example.com/team_a/app").empty());
  const std::string password_a = auth[key_a]["password"];
  const std::string password_b = auth[key_b]["password"];
  expect_no_leak(result.err, {token_, password_a, password_b});
}

// One organisation's robot failing leaves the other's key in the answer, cached per image so
// that the failing organisation's images ask again; the image's own robot failing fails it.
TEST_F(PolicyBinary, OneRobotFailingCostsOnlyItsOwnOrganisation) {
  quay_.add_robot(kTeamB, {});  // federation no longer configured for team_b's robot
  const auto both = robots(std::string(kTeamA) + "," + kTeamB);
  auto result = call("/team_a/app", both);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto response = nlohmann::json::parse(result.out);
  EXPECT_EQ(response["cacheKeyType"], "Image");
  ASSERT_EQ(response["auth"].size(), 1U);
  EXPECT_EQ(response["auth"][quay_.host() + "/team_a/"]["username"], kTeamA);
  EXPECT_THAT(result.err, HasSubstr("robot team_b+puller: "));
  expect_no_leak(result.err, {token_});

  result = call("/team_b/app", both);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("robot team_b+puller (the image's organisation): "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;

  quay_.add_robot(kTeamA, {});
  result = call("/other/app", both);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("every robot failed: robot team_a+puller: "));
  EXPECT_THAT(result.err, HasSubstr("; robot team_b+puller: "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST_F(PolicyBinary, QuayHostsKeepTokensFromRegistriesTheRuleDoesNotName) {
  write_policy(
      "  - namespaces: [app]\n    defaultRobot: team_a+puller\n"
      "    quayHosts: [quay.example.com]\n");
  const auto result = call("/team_a/app", nlohmann::json::object());
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_THAT(result.err,
              HasSubstr("the Quay host " + quay_.host() + " is not among the quayHosts of rule 1"));
  EXPECT_EQ(quay_.request_count(), 0U);
}

}  // namespace
}  // namespace policy_e2e
}  // namespace qcp::test

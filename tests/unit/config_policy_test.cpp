// Issue 23: check-config --policy checks the kubelet's config against the policy the provider
// reads: the annotation keys it must forward, and in which list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "layers.hpp"
#include "qcp/quay/policy.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp {
namespace config_policy_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPolicyPath = "/etc/qcp/policy.yaml";

std::string config_with(const std::string& args, const std::string& required,
                        const std::string& optional) {
  return "apiVersion: kubelet.config.k8s.io/v1\n"
         "kind: CredentialProviderConfig\n"
         "providers:\n"
         "  - name: quay-credential-provider\n"
         "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
         "    matchImages: [quay.example.com]\n"
         "    defaultCacheDuration: 5m\n"
         "    args: " +
         args +
         "\n"
         "    tokenAttributes:\n"
         "      serviceAccountTokenAudience: quay\n"
         "      cacheType: ServiceAccount\n"
         "      requireServiceAccount: true\n"
         "      requiredServiceAccountAnnotationKeys: " +
         required +
         "\n"
         "      optionalServiceAccountAnnotationKeys: " +
         optional + "\n";
}

Policy policy_of(const std::string& head, const std::string& rule) {
  return parse_policy("apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n" + head +
                          "rules:\n  - namespaces: ['*']\n" + rule,
                      kPolicyPath);
}

const std::string kArgs = std::string("[\"--policy=") + kPolicyPath + "\"]";

std::vector<std::string> messages(const ConfigReport& report, bool warnings) {
  std::vector<std::string> out;
  for (const auto& finding : report.findings) {
    if (finding.warning == warnings) {
      out.push_back(finding.path + ": " + finding.message);
    }
  }
  return out;
}

TEST(CheckConfigPolicy, ADefaultRobotNeedsTheRobotKeyOptional) {
  const Policy policy = policy_of("", "    defaultRobot: team+puller\n");
  const auto required = check_provider_config(
      config_with(kArgs, "[quay.io/federated-robot-account]", "[quay.io/host]"), {}, &policy);
  ASSERT_EQ(messages(required, false).size(), 1U);
  EXPECT_THAT(messages(required, false)[0],
              HasSubstr("providers[0].tokenAttributes.optionalServiceAccountAnnotationKeys: must "
                        "list quay.io/federated-robot-account (and "
                        "requiredServiceAccountAnnotationKeys must not): rule 1 (" +
                        std::string(kPolicyPath) + ":4) gives a defaultRobot"));

  const auto optional = check_provider_config(
      config_with(kArgs, "[]", "[quay.io/federated-robot-account, quay.io/host]"), {}, &policy);
  EXPECT_TRUE(optional.ok());
  EXPECT_TRUE(messages(optional, true).empty()) << messages(optional, true).front();
}

TEST(CheckConfigPolicy, WithoutADefaultTheRobotKeyStaysRequired) {
  const Policy policy = policy_of("", "    robots: ['team+*']\n");
  EXPECT_TRUE(
      check_provider_config(
          config_with(kArgs, "[quay.io/federated-robot-account]", "[quay.io/host]"), {}, &policy)
          .ok());
  const auto optional = check_provider_config(
      config_with(kArgs, "[]", "[quay.io/federated-robot-account]"), {}, &policy);
  EXPECT_TRUE(optional.ok());
  ASSERT_EQ(messages(optional, true).size(), 1U);
  EXPECT_THAT(messages(optional, true)[0], HasSubstr("is optional"));
}

TEST(CheckConfigPolicy, ThePolicysOwnAnnotationKeysMustBeForwarded) {
  const Policy policy =
      policy_of("annotations:\n  robot: example.com/robot\n  host: example.com/host\n",
                "    robots: ['team+*']\n");
  const auto report = check_provider_config(
      config_with(kArgs, "[quay.io/federated-robot-account, example.com/host]", "[]"), {}, &policy);
  EXPECT_THAT(messages(report, false),
              ::testing::ElementsAre(HasSubstr("must list example.com/robot")));
  EXPECT_THAT(messages(report, true),
              ::testing::ElementsAre(HasSubstr("example.com/host is required")));
}

TEST(CheckConfigPolicy, TheProviderMustReadThePolicyChecked) {
  const Policy policy = policy_of("", "    robots: ['team+*']\n");
  const std::string keys = "[quay.io/federated-robot-account]";
  const auto none = check_provider_config(config_with("[]", keys, "[]"), {}, &policy);
  EXPECT_THAT(messages(none, false),
              ::testing::ElementsAre(HasSubstr("providers[0].args: no --policy")));

  const auto other =
      check_provider_config(config_with("[--policy=/etc/other.yaml]", keys, "[]"), {}, &policy);
  EXPECT_TRUE(other.ok());
  EXPECT_THAT(messages(other, true),
              ::testing::ElementsAre(
                  HasSubstr("reads the policy /etc/other.yaml, not " + std::string(kPolicyPath))));

  const auto unchecked = check_provider_config(config_with(kArgs, keys, "[]"), {});
  EXPECT_TRUE(unchecked.ok());
  EXPECT_THAT(
      messages(unchecked, true),
      ::testing::ElementsAre(HasSubstr("run check-config --policy " + std::string(kPolicyPath))));
}

}  // namespace
}  // namespace config_policy_test
}  // namespace qcp

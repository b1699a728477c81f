// Issue 23: install --policy writes --policy into our entry's args and lists the node policy's
// annotation keys in tokenAttributes, the robot's optional where a rule gives a defaultRobot (the
// kubelet would otherwise skip every ServiceAccount without it); a policy the provider would
// refuse, or another user could change, is refused before anything is written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "host_root_fixture.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"

namespace qcp::install {
namespace installer_policy_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kConfig = "/etc/kubernetes/credential-providers.yaml";
constexpr const char* kPolicy = "/etc/kubernetes/quay-credential-policy.yaml";

std::string policy_text(const std::string& rule_extra) {
  return "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
         "annotations:\n  robot: example.com/robot\n  host: example.com/host\n"
         "rules:\n  - namespaces: [team-a]\n    robots: [\"team_a+*\"]\n" +
         rule_extra;
}

class InstallerPolicy : public Installer {
 protected:
  InstallRequest with_policy() {
    auto request = this->request(kConfig);
    request.policy = kPolicy;
    return request;
  }
  // install's one-line refusal, and that nothing was written.
  std::string refusal() {
    const auto before = snapshot(root_);
    try {
      install_with(with_policy());
    } catch (const Failure& failure) {
      EXPECT_EQ(failure.code(), ExitCode::kUsage);
      EXPECT_EQ(snapshot(root_), before) << "a refused install changed the node";
      return failure.what();
    }
    ADD_FAILURE() << "installed";
    return {};
  }
};

TEST_F(InstallerPolicy, ADefaultRobotMakesThePolicysRobotKeyOptional) {
  write(kPolicy, policy_text("    defaultRobot: team_a+puller\n"));
  EXPECT_TRUE(install_with(with_policy()).changed);
  const std::string config = read(kConfig);
  EXPECT_THAT(config,
              HasSubstr("args:\n      - \"--policy\"\n      - \"" + std::string(kPolicy) + "\"\n"));
  EXPECT_THAT(config, Not(HasSubstr("requiredServiceAccountAnnotationKeys")));
  EXPECT_THAT(config, HasSubstr("optionalServiceAccountAnnotationKeys:\n"
                                "        - example.com/robot\n        - example.com/host\n"));
  EXPECT_THAT(config, Not(HasSubstr("quay.io/")));
  EXPECT_FALSE(install_with(with_policy()).changed);
}

TEST_F(InstallerPolicy, WithoutADefaultThePolicysRobotKeyIsRequired) {
  write(kPolicy, policy_text(""));
  install_with(with_policy());
  const std::string config = read(kConfig);
  EXPECT_THAT(config, HasSubstr("requiredServiceAccountAnnotationKeys:\n"
                                "        - example.com/robot\n"
                                "      optionalServiceAccountAnnotationKeys:\n"
                                "        - example.com/host\n"));
  // An edit that adds a default: the next install (--watch) makes the key optional.
  write(kPolicy, policy_text("    defaultRobot: team_a+puller\n"));
  EXPECT_TRUE(install_with(with_policy()).changed);
  EXPECT_THAT(read(kConfig), Not(HasSubstr("requiredServiceAccountAnnotationKeys")));
}

TEST_F(InstallerPolicy, APolicyTheProviderWouldRefuseIsRefusedFirst) {
  EXPECT_THAT(refusal(), HasSubstr("--policy " + std::string(kPolicy) + ": no such file"));
  write(kPolicy, policy_text("    robts: []\n"));
  EXPECT_THAT(refusal(), HasSubstr("install: " + std::string(kPolicy) + ":9: "));
  write(kPolicy, policy_text(""), fs::perms(0664));
  EXPECT_THAT(refusal(), HasSubstr("may be written by group or others"));
  write(kPolicy, policy_text(""));
  fs::permissions(root_ / "etc/kubernetes", fs::perms(0777));
  EXPECT_THAT(refusal(), HasSubstr("in a directory that is not root's or that others may write"));
  fs::permissions(root_ / "etc/kubernetes", fs::perms(0755));
  fs::rename(root_ / std::string(kPolicy).substr(1), root_ / "etc/kubernetes/real.yaml");
  fs::create_symlink("real.yaml", root_ / std::string(kPolicy).substr(1));
  EXPECT_THAT(refusal(), HasSubstr("is a symlink"));
}

TEST_F(InstallerPolicy, APolicyOfAnotherUsersIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the policy file to another user";
  }
  write(kPolicy, policy_text(""));
  ASSERT_EQ(::chown((root_ / std::string(kPolicy).substr(1)).c_str(), 65534, 65534), 0);
  EXPECT_THAT(refusal(), HasSubstr("is not root's"));
}

// --policy-source (the DaemonSet's ConfigMap): install writes the policy beside the config in the
// same transaction, an edit is written at the next pass, uninstall takes it away, and an install
// that would leave it behind is refused.
TEST_F(InstallerPolicy, APolicySourceIsWrittenBesideTheConfigAndGoesAtUninstall) {
  const auto before = snapshot(root_);
  auto request = this->request(kConfig);
  request.policy_text = policy_text("");
  request.policy_source = "/etc/quay-credential-provider/policy/policy.yaml";
  const auto first = install_with(request);
  const std::string written = "/etc/kubernetes/quay-credential-provider-policy.yaml";
  EXPECT_EQ(read(written), request.policy_text);
  EXPECT_EQ(fs::status(root_ / written.substr(1)).permissions(), fs::perms(0644));
  EXPECT_THAT(first.report, ::testing::Contains("wrote the policy " + written + " (from " +
                                                request.policy_source + ")"));
  EXPECT_THAT(read(kConfig), HasSubstr("- \"--policy\"\n      - \"" + written + "\"\n"));
  EXPECT_FALSE(install_with(request).changed);

  request.policy_text = policy_text("    defaultRobot: team_a+puller\n");  // the ConfigMap edited
  EXPECT_TRUE(install_with(request).changed);
  EXPECT_EQ(read(written), request.policy_text);
  EXPECT_THAT(read(kConfig), Not(HasSubstr("requiredServiceAccountAnnotationKeys")));

  auto without = this->request(kConfig);
  try {
    install_with(without);
    ADD_FAILURE() << "an install dropped the policy it had written";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("was installed with --policy-source"));
  }
  EXPECT_TRUE(uninstall_from(kConfig).changed);
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(InstallerPolicy, APolicyFileThereBeforeIsPutBackAndOneEditedOnTheNodeIsLeft) {
  const std::string written = "/etc/kubernetes/quay-credential-provider-policy.yaml";
  write(written, "# the admin's own\n", fs::perms(0600));
  const auto before = snapshot(root_);
  auto request = this->request(kConfig);
  request.policy_text = policy_text("");
  install_with(request);
  EXPECT_TRUE(uninstall_from(kConfig).changed);
  EXPECT_EQ(snapshot(root_), before);

  install_with(request);
  write(written, policy_text("    defaultRobot: team_a+puller\n"));  // edited on the node
  const auto removed = uninstall_from(kConfig);
  EXPECT_THAT(removed.report, ::testing::Contains(HasSubstr("left " + written + " in place")));
  EXPECT_TRUE(fs::exists(root_ / written.substr(1)));
}

}  // namespace
}  // namespace installer_policy_test
}  // namespace qcp::install

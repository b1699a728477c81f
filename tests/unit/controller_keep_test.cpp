// What the controller's informers keep of the objects they see (issue 21).
#include <gtest/gtest.h>

#include "qcp/controller/controller.hpp"
#include "qcp/controller/evictor.hpp"
#include "qcp/controller/policy_file.hpp"

// Issue 21: "only annotated service accounts are kept in memory, and only the fields used".
TEST(ControllerKeeps, OnlyAnnotatedAccountsAndOnlyTheFieldsItReads) {
  qcp::kube::ServiceAccount account;
  account.meta.name = "puller";
  account.meta.annotations = {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"},
                              {"quay.io/federated-robot-account", "team+puller"},
                              {"quay-credential-provider/secret-name", "pull"},
                              {"quay-credential-provider/verify-image", "quay.example.com/t/a"}};
  account.meta.labels = {{"app", "x"}};
  qcp::kube::ServiceAccount plain = account;
  plain.meta.annotations.erase("quay.io/federated-robot-account");
  EXPECT_FALSE(qcp::controller::keep_service_account(plain));
  ASSERT_TRUE(qcp::controller::keep_service_account(account));
  EXPECT_EQ(account.meta.annotations.size(), 3U);
  EXPECT_FALSE(
      account.meta.annotations.contains("kubectl.kubernetes.io/last-applied-configuration"));
  EXPECT_TRUE(account.meta.labels.empty());

  qcp::kube::Secret secret;
  secret.meta.labels = {{"app.kubernetes.io/managed-by", "quay-credential-provider"},
                        {"quay-credential-provider/service-account", "puller"},
                        {"team", "a"}};
  secret.meta.annotations = {{"quay-credential-provider/expires", "2026-12-07T08:00:00Z"},
                             {"note", "big"}};
  ASSERT_TRUE(qcp::controller::keep_secret(secret));
  EXPECT_EQ(secret.meta.labels.size(), 2U);
  EXPECT_EQ(secret.meta.annotations.size(), 1U);
  qcp::kube::Secret foreign;
  foreign.meta.labels = {{"app.kubernetes.io/managed-by", "quay-credential-provider"}};
  EXPECT_FALSE(qcp::controller::keep_secret(foreign));  // whose it is unknown: not ours to act on
}

// Issue 23: with a policy, a rule's defaultRobot may give any ServiceAccount a robot: every one
// is kept, with only the policy's own annotation keys.
TEST(ControllerKeeps, WithAPolicyEveryAccountAndOnlyThePolicysKeys) {
  qcp::core::Environment env;
  env.read_file = [](const std::string& /*path*/, std::size_t /*max*/) {
    return std::string(
        "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
        "annotations:\n  robot: example.com/robot\n  host: example.com/host\n"
        "rules:\n  - namespaces: [\"*\"]\n    robots: [\"team+*\"]\n");
  };
  const qcp::controller::PolicyFile policy(env, "policy.yaml");
  qcp::kube::ServiceAccount account;
  account.meta.annotations = {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"},
                              {"quay.io/federated-robot-account", "team+puller"},
                              {"example.com/robot", "team+puller"},
                              {"example.com/host", "quay.example.com"}};
  account.meta.labels = {{"app", "x"}};
  qcp::kube::ServiceAccount plain;
  EXPECT_TRUE(qcp::controller::keep_service_account(plain, &policy));
  ASSERT_TRUE(qcp::controller::keep_service_account(account, &policy));
  EXPECT_EQ(account.meta.annotations.size(), 2U);
  EXPECT_TRUE(account.meta.annotations.contains("example.com/robot"));
  EXPECT_TRUE(account.meta.annotations.contains("example.com/host"));
  EXPECT_TRUE(account.meta.labels.empty());
}

// Issue 25: of pending pods, only those that run as a ServiceAccount and cannot pull, without
// their labels and annotations.
TEST(ControllerKeeps, OnlyPendingPodsThatCannotPull) {
  qcp::kube::Pod pod;
  pod.meta.name = "web-1";
  pod.meta.labels = {{"app", "web"}};
  pod.meta.annotations = {{"big", std::string(4096, 'x')}};
  pod.service_account = "puller";
  qcp::kube::Pod starting = pod;
  EXPECT_FALSE(qcp::controller::keep_stuck_pod(starting));  // ContainerCreating: nothing failed
  pod.failed_pulls = {{.image = "quay.example.com/team/app:v1", .reason = "ImagePullBackOff"}};
  qcp::kube::Pod going = pod;
  going.meta.deleting = true;
  EXPECT_FALSE(qcp::controller::keep_stuck_pod(going));
  ASSERT_TRUE(qcp::controller::keep_stuck_pod(pod));
  EXPECT_TRUE(pod.meta.labels.empty());
  EXPECT_TRUE(pod.meta.annotations.empty());
}

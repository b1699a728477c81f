// What the controller's informers keep of the objects they see (issue 21).
#include <gtest/gtest.h>

#include "qcp/controller/controller.hpp"

// Issue 21: "only annotated service accounts are kept in memory, and only the fields used".
TEST(ControllerKeeps, OnlyAnnotatedAccountsAndOnlyTheFieldsItReads) {
  qcp::kube::ServiceAccount account;
  account.meta.name = "puller";
  account.meta.annotations = {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"},
                              {"quay.io/federated-robot-account", "team+puller"},
                              {"quay-credential-provider/secret-name", "pull"}};
  account.meta.labels = {{"app", "x"}};
  qcp::kube::ServiceAccount plain = account;
  plain.meta.annotations.erase("quay.io/federated-robot-account");
  EXPECT_FALSE(qcp::controller::keep_service_account(plain));
  ASSERT_TRUE(qcp::controller::keep_service_account(account));
  EXPECT_EQ(account.meta.annotations.size(), 2U);
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

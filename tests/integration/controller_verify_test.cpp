// Issue 25: --verify-only against the fake API server and the fake Quay over real HTTPS: each
// annotated ServiceAccount's federation walked (TokenRequest, exchange, with a verify image the
// registry's token endpoint), nothing written but Events (when the outcome changes) and metrics;
// a binding removed at Quay shows up as a Warning before any pod needs it, and its return too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "no_leak.hpp"
#include "qcp/controller/metrics.hpp"

namespace qcp::test {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class Verify : public ControllerFixture {
 protected:
  Verify() {
    settings_.verify_only = true;
    settings_.verify.interval = 1s;
    settings_.verify.retry_base = 200ms;
    settings_.verify.retry_cap = 1s;
  }
};

TEST_F(Verify, WalksTheFederationWritesNothingAndTellsOnceWhileItHolds) {
  start();
  ASSERT_TRUE(eventually([&] { return count("FederationVerified") == 1; }));
  // Verified again and again (every second here), told once.
  ASSERT_TRUE(eventually(
      [&] { return sample("quay_credential_provider_verifications_total{result=\"ok\"}") >= 3; }));
  EXPECT_EQ(count("FederationVerified"), 1U);
  EXPECT_THAT(events_with("FederationVerified").front()["message"].get<std::string>(),
              HasSubstr("Quay exchanged its token for robot team+puller"));
  EXPECT_FALSE(api_.secret("team-a", kSecret).has_value());
  EXPECT_TRUE(pull_secrets().is_null());
  EXPECT_EQ(sample("quay_credential_provider_verify_failing"), 0);
  std::vector<std::string> paths;
  for (const auto& request : api_.requests()) {
    paths.push_back(request.path);
  }
  EXPECT_THAT(paths, Not(Contains(HasSubstr("/secrets"))));
  EXPECT_THAT(paths, Not(Contains(HasSubstr("/pods"))));
}

TEST_F(Verify, ABindingGoneAtQuayIsAWarningAndItsReturnIsTold) {
  start();
  ASSERT_TRUE(eventually([&] { return count("FederationVerified") == 1; }));
  quay_.remove_robot(kRobot);
  ASSERT_TRUE(eventually([&] { return count("FederationFailed") == 1; }));
  const auto warning = events_with("FederationFailed").front();
  EXPECT_EQ(warning["type"], "Warning");
  EXPECT_THAT(warning["message"].get<std::string>(), HasSubstr("ServiceAccount team-a/puller"));
  EXPECT_TRUE(eventually([&] { return sample("quay_credential_provider_verify_failing") == 1; }));
  EXPECT_GE(sample("quay_credential_provider_verifications_total{result=\"exchange\"}"), 1);
  quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
  EXPECT_TRUE(eventually([&] { return count("FederationVerified") == 2; }));
  EXPECT_EQ(count("FederationFailed"), 1U);  // told when it broke, not at each retry
  EXPECT_TRUE(eventually([&] { return sample("quay_credential_provider_verify_failing") == 0; }));
}

TEST_F(Verify, AVerifyImageAsksTheRegistryWhetherTheRobotMayPullIt) {
  settings_.verify.image = quay_.host() + "/team/app:v1";
  quay_.add_robot("team+other", {{quay_.issuer_url(), "system:serviceaccount:team-a:other", {}}});
  api_.add_service_account("team-a", "other",
                           {{kRobotKey, "team+other"},
                            {"quay-credential-provider/verify-image",
                             quay_.host() + "/elsewhere/app@sha256:" + std::string(64, 'a')}});
  start();
  ASSERT_TRUE(eventually([&] { return count("FederationVerified") == 1; })) << log_text_.str();
  EXPECT_THAT(events_with("FederationVerified").front()["message"].get<std::string>(),
              HasSubstr("which can pull team/app"));
  ASSERT_TRUE(eventually([&] { return count("FederationFailed") == 1; }));
  const std::string refused = events_with("FederationFailed").front()["message"];
  EXPECT_THAT(refused, HasSubstr("ServiceAccount team-a/other"));
  EXPECT_THAT(refused, HasSubstr("refused robot team+other for elsewhere/app (HTTP 403"));
  EXPECT_GE(sample("quay_credential_provider_verifications_total{result=\"registry\"}"), 1);
  // Neither the ServiceAccount tokens nor the robot tokens (both sent to Quay) show anywhere.
  std::vector<std::string> secrets;
  for (const auto& request : quay_.requests()) {
    if (request.basic_password) {
      secrets.push_back(*request.basic_password);
    }
  }
  ASSERT_FALSE(secrets.empty());
  expect_no_leak(json(api_.events()).dump() + log_text_.str(), secrets);
}

}  // namespace
}  // namespace qcp::test

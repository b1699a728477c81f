// Issue 25: what the controller tells /metrics, /readyz and /healthz, from a real controller
// against the fake API server and the fake Quay: Secrets managed and written by reason,
// failures by the step that failed, the exchange's latency, the earliest expiry (the Secret's
// own), LISTs and watches; a watch that cannot reach the API server, and a worker hung in one
// reconcile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "qcp/controller/metrics.hpp"
#include "qcp/core/duration.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ControllerMetrics : public ControllerFixture {};

TEST_F(ControllerMetrics, CountWhatWasWrittenAndWhenTheFirstTokenExpires) {
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty(); }));
  ASSERT_TRUE(eventually([&] { return count("PullSecretCreated") == 1; }));
  const std::string prefix = "quay_credential_provider_";
  EXPECT_EQ(sample(prefix + "managed_secrets"), 1);
  EXPECT_EQ(sample(prefix + "secret_writes_total{reason=\"created\"}"), 1);
  EXPECT_EQ(sample(prefix + "secret_writes_total{reason=\"refreshed\"}"), 0);
  EXPECT_EQ(sample(prefix + "failures_total{reason=\"exchange\"}"), 0);
  EXPECT_EQ(sample(prefix + "exchange_duration_seconds_count"), 1);
  EXPECT_EQ(sample(prefix + "exchange_duration_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_GT(sample(prefix + "exchange_duration_seconds_sum"), 0);
  // The earliest expiry is the one the Secret itself states.
  const auto expires =
      parse_rfc3339(api_.secret("team-a", kSecret)
                        .value()["metadata"]["annotations"]["quay-credential-provider/expires"]
                        .get<std::string>());
  ASSERT_TRUE(expires);
  EXPECT_EQ(sample(prefix + "earliest_expiry_timestamp_seconds"), static_cast<double>(*expires));
  EXPECT_EQ(sample(prefix + "api_lists_total{resource=\"serviceaccounts\"}"), 1);
  EXPECT_EQ(sample(prefix + "api_relists_total{resource=\"secrets\"}"), 0);
  EXPECT_GE(sample(prefix + "api_watches_total{resource=\"secrets\"}"), 1);
  // Every family is announced once, before its samples, in the text format.
  const std::string text = metrics();
  EXPECT_THAT(text, HasSubstr("# TYPE quay_credential_provider_secret_writes_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE quay_credential_provider_exchange_duration_seconds "
                              "histogram\n"));
  EXPECT_TRUE(std::regex_search(text, std::regex(R"((^|\n)# HELP quay_credential_provider_managed_)"
                                                 R"(secrets [^\n]+\n# TYPE [^\n]+ gauge\n)")));
}

TEST_F(ControllerMetrics, FailuresAreCountedByTheStepThatFailed) {
  api_.add_service_account("team-a", "odd", {{kRobotKey, "not a robot"}});
  quay_.remove_robot(kRobot);
  start();
  const std::string prefix = "quay_credential_provider_failures_total";
  EXPECT_TRUE(eventually([&] { return sample(prefix + "{reason=\"exchange\"}") >= 1; }));
  EXPECT_TRUE(eventually([&] { return sample(prefix + "{reason=\"invalid_annotation\"}") == 1; }));
  EXPECT_EQ(sample(prefix + "{reason=\"token_request\"}"), 0);
  EXPECT_EQ(sample("quay_credential_provider_managed_secrets"), 0);
  // No Secret: no expiry to state (an alert on it must not fire on a 0).
  EXPECT_THAT(metrics(), Not(HasSubstr("\nquay_credential_provider_earliest_expiry_timestamp")));
}

TEST_F(ControllerMetrics, AWatchThatCannotReachTheApiServerIsAProblemUntilItHearsAgain) {
  settings_.watch_timeout = 3s;  // a bookmark a second in: a quiet watch is heard from soon
  start();
  ASSERT_TRUE(eventually([&] { return controller_->synced(); }));
  EXPECT_THAT(controller_->watch_problem(), IsEmpty());
  api_.go_down(true);
  ASSERT_TRUE(eventually([&] { return !controller_->watch_problem().empty(); }));
  EXPECT_THAT(controller_->watch_problem(), HasSubstr("failures in a row"));
  api_.go_down(false);
  EXPECT_TRUE(eventually([&] { return controller_->watch_problem().empty(); }));
  // Whichever watch failed first (all of them did), its failures were counted.
  double failures = 0;
  for (const char* resource : {"serviceaccounts", "secrets", "pods"}) {
    failures +=
        sample(std::string("quay_credential_provider_api_watch_failures_total{resource=\"") +
               resource + "\"}");
  }
  EXPECT_GE(failures, 1);
}

TEST_F(ControllerMetrics, AWorkerHungInOneReconcileIsWhatHealthzReports) {
  settings_.stuck_after = 300ms;
  quay_.push_reply(Reply::hang(2s));  // the first exchange attempt hangs, the retry succeeds
  start();
  ASSERT_TRUE(eventually([&] { return !controller_->stuck_worker().empty(); }));
  EXPECT_THAT(controller_->stuck_worker(), HasSubstr("in one reconcile for more than"));
  ASSERT_TRUE(eventually([&] { return !data().empty(); }, 30s));
  EXPECT_TRUE(eventually([&] { return controller_->stuck_worker().empty(); }));
}

}  // namespace
}  // namespace qcp::test

// Issue 25: pods created before their ServiceAccount's pull Secret, stuck in ImagePullBackOff,
// evicted through the Eviction API by a real controller against the fake API server (pending
// pods only, kube-api/10a; evictions 10c-10g) and the fake Quay over real HTTPS: only pods of a
// provisioned ServiceAccount, failing on the registry the Secret serves, lacking the Secret,
// owned by a controller and naming no pull Secrets of their own; a budget's 429 is tried again,
// never forced; --no-evict watches no pod at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller_fixture.hpp"
#include "eventually.hpp"
#include "qcp/controller/metrics.hpp"

namespace qcp::test {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class Eviction : public ControllerFixture {
 protected:
  Eviction() { settings_.renewal.retry_cap = 2s; }  // a refused eviction is tried 0.2 s later

  [[nodiscard]] std::string image() const { return quay_.host() + "/team/app:v1"; }
  // A pod of `account` that started before the Secret, and now cannot pull.
  void stuck_pod(const std::string& name, const std::string& account = "puller",
                 const std::vector<std::string>& own = {}, const std::string& pull = {},
                 bool controlled = true) {
    ASSERT_TRUE(
        api_.create_pod("team-a", name, account, own, pull.empty() ? image() : pull, controlled));
    api_.set_pull_failure("team-a", name);
  }
  [[nodiscard]] double evictions(const std::string& result) const {
    return sample("quay_credential_provider_pod_evictions_total{result=\"" + result + "\"}");
  }
};

TEST_F(Eviction, APodCreatedBeforeTheSecretIsEvictedAndItsReplacementHasIt) {
  stuck_pod("web-1");
  start();
  ASSERT_TRUE(eventually([&] { return !api_.pod("team-a", "web-1").has_value(); }));
  ASSERT_TRUE(eventually([&] { return !events_about("Pod", "web-1").empty(); }));
  const auto on_pod = events_about("Pod", "web-1").front();
  EXPECT_EQ(on_pod["reason"], "PullSecretEviction");
  EXPECT_EQ(on_pod["type"], "Normal");
  EXPECT_THAT(on_pod["message"].get<std::string>(), HasSubstr("cannot pull " + image()));
  EXPECT_TRUE(eventually([&] { return count("PodEvicted") == 1; }));
  EXPECT_TRUE(
      eventually([&] { return evictions("evicted") == 1; }));  // counted after the call returns
  // Its ReplicaSet's next pod is admitted with the Secret, and left alone.
  const auto replacement = api_.create_pod("team-a", "web-2", "puller", {}, image()).value();
  EXPECT_EQ(replacement["spec"]["imagePullSecrets"],
            json::parse(R"([{"name":"puller-quay-pull"}])"));
}

TEST_F(Eviction, OnlyPodsThatTheSecretWouldHaveLetPullAreEvicted) {
  api_.add_service_account("team-a", "builder");  // not annotated: not ours
  stuck_pod("not-ours", "builder");
  stuck_pod("elsewhere", "puller", {}, "docker.io/library/nginx:1.27");
  stuck_pod("own-secrets", "puller", {"their-own"});
  stuck_pod("bare", "puller", {}, {}, /*controlled=*/false);
  stuck_pod("web-1");
  start();
  ASSERT_TRUE(eventually([&] { return !api_.pod("team-a", "web-1").has_value(); }));
  ASSERT_TRUE(eventually([&] { return evictions("left") == 2; }));
  for (const char* kept : {"not-ours", "elsewhere", "own-secrets", "bare"}) {
    EXPECT_TRUE(api_.pod("team-a", kept).has_value()) << kept;
  }
  EXPECT_TRUE(
      eventually([&] { return evictions("evicted") == 1; }));  // counted after the call returns
  // The two it would have evicted but for a reason are told so, once each.
  const auto bare = events_about("Pod", "bare");
  ASSERT_EQ(bare.size(), 1U);
  EXPECT_EQ(bare.front()["type"], "Warning");
  EXPECT_EQ(bare.front()["reason"], "PullSecretMissing");
  EXPECT_THAT(bare.front()["message"].get<std::string>(), HasSubstr("no controller"));
  const auto own = events_about("Pod", "own-secrets");
  ASSERT_EQ(own.size(), 1U);
  EXPECT_THAT(own.front()["message"].get<std::string>(), HasSubstr("of its own (their-own)"));
  EXPECT_TRUE(events_about("Pod", "not-ours").empty());
  EXPECT_TRUE(events_about("Pod", "elsewhere").empty());
  // A pod that has the Secret and still fails fails for another reason: left, untold.
  ASSERT_TRUE(api_.create_pod("team-a", "has-it", "puller", {}, image()));
  api_.set_pull_failure("team-a", "has-it", "ErrImagePull");
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(api_.pod("team-a", "has-it").has_value());
  EXPECT_TRUE(events_about("Pod", "has-it").empty());
}

TEST_F(Eviction, ABudgetThatSaysNotNowIsAskedAgainNeverForced) {
  api_.refuse_evictions(2);
  stuck_pod("web-1");
  start();
  ASSERT_TRUE(eventually([&] { return !api_.pod("team-a", "web-1").has_value(); }));
  EXPECT_EQ(evictions("budget"), 2);
  EXPECT_TRUE(
      eventually([&] { return evictions("evicted") == 1; }));  // counted after the call returns
  EXPECT_THAT(log_text_.str(), HasSubstr("disruption budget"));
}

TEST_F(Eviction, NoEvictWatchesNoPodAndLeavesThemAlone) {
  settings_.evict = false;
  stuck_pod("web-1");
  start();
  ASSERT_TRUE(eventually([&] { return !data().empty() && count("PullSecretCreated") == 1; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(api_.pod("team-a", "web-1").has_value());
  std::vector<std::string> paths;
  for (const auto& request : api_.requests()) {
    paths.push_back(request.path);
  }
  EXPECT_THAT(paths, Not(Contains(HasSubstr("/pods"))));
}

}  // namespace
}  // namespace qcp::test

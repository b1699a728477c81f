// Issue 25: the fake API server's pods as kube-api/10a-10g recorded them, read through the
// controller's own client and decoder: pending pods by field selector (an unsupported label is
// 400), a watch that sees a pod leave the selector, and the Eviction subresource's 201, 429,
// 404 and 400.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "kube_fixture.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class KubePods : public KubeFixture {
 protected:
  KubePods() {
    api_.add_service_account("team-a", "puller");
    EXPECT_TRUE(api_.create_pod("team-a", "stuck", "puller", {}, "quay.example.com/team/a:v1"));
    EXPECT_TRUE(api_.create_pod("team-a", "bare", "puller", {}, "quay.example.com/team/a:v1",
                                /*controlled=*/false));
    api_.set_pull_failure("team-a", "stuck");
  }
  kube::ApiResponse call(std::string method, std::string path, std::string body = {}) {
    return client_.call({.method = std::move(method),
                         .path = std::move(path),
                         .body = std::move(body),
                         .content_type = "application/json",
                         .timeout = 10s});
  }
};

TEST_F(KubePods, PendingPodsComeByFieldSelectorAndAnUnsupportedLabelIs400) {
  api_.set_pod_phase("team-a", "bare", "Running");
  const auto answer = call("GET", "/api/v1/pods?fieldSelector=status.phase%3DPending&limit=100");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto list = kube::decode_pod_list(answer.body);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->items.size(), 1U);
  const auto& pod = list->items.front();
  EXPECT_EQ(pod.meta.name, "stuck");
  EXPECT_EQ(pod.service_account, "puller");
  EXPECT_TRUE(pod.controlled);
  EXPECT_EQ(pod.phase, "Pending");
  ASSERT_EQ(pod.failed_pulls.size(), 1U);
  EXPECT_EQ(pod.failed_pulls.front().image, "quay.example.com/team/a:v1");
  EXPECT_EQ(pod.failed_pulls.front().reason, "ImagePullBackOff");
  const auto bad = call("GET", "/api/v1/pods?fieldSelector=spec.containers.image%3Dx");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("field label not supported: spec.containers.image"));
}

// The watch cache sends an object that stops matching the selector as DELETED (its new state).
TEST_F(KubePods, APodThatStartsRunningLeavesAPendingWatch) {
  const auto list = kube::decode_pod_list(
      call("GET", "/api/v1/namespaces/team-a/pods?fieldSelector=status.phase%3DPending").body);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->items.size(), 2U);
  std::vector<kube::WatchEvent<kube::Pod>> seen;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    client_.watch(
        {.method = "GET",
         .path = "/api/v1/namespaces/team-a/pods?watch=1&fieldSelector=status.phase%"
                 "3DPending&resourceVersion=" +
                 list->resource_version + "&timeoutSeconds=5",
         .body = {},
         .content_type = {},
         .timeout = 10s},
        [&](std::string_view line) {
          if (auto event = kube::decode_pod_event(line)) {
            seen.push_back(*event);
          }
          return seen.size() < 2;
        },
        [&] { return !done.load(); });
  });
  api_.set_pull_failure("team-a", "bare", "ErrImagePull");
  api_.set_pod_phase("team-a", "stuck", "Running");
  watcher.join();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].type, kube::WatchEventType::kModified);
  EXPECT_EQ(seen[0].object->meta.name, "bare");
  EXPECT_EQ(seen[0].object->failed_pulls.front().reason, "ErrImagePull");
  EXPECT_EQ(seen[1].type, kube::WatchEventType::kDeleted);
  EXPECT_EQ(seen[1].object->meta.name, "stuck");
  EXPECT_EQ(seen[1].object->phase, "Running");
}

TEST_F(KubePods, AnEvictionIs201ForAPendingPodAnd429WhileABudgetSaysNo) {
  const std::string path = "/api/v1/namespaces/team-a/pods/stuck/eviction";
  api_.refuse_evictions(1);
  const auto refused = call("POST", path, kube::encode_eviction("team-a", "stuck"));
  EXPECT_EQ(refused.status, 429);
  const auto status = json::parse(refused.body);
  EXPECT_EQ(status["reason"], "TooManyRequests");
  EXPECT_EQ(status["details"]["causes"][0]["reason"], "DisruptionBudget");
  EXPECT_TRUE(api_.pod("team-a", "stuck").has_value());

  EXPECT_EQ(call("POST", path, kube::encode_eviction("team-a", "other")).status, 400);
  const auto evicted = call("POST", path, kube::encode_eviction("team-a", "stuck"));
  EXPECT_EQ(evicted.status, 201);
  EXPECT_EQ(json::parse(evicted.body),
            json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
                        R"("status":"Success","code":201})"));
  EXPECT_FALSE(api_.pod("team-a", "stuck").has_value());
  const auto gone = call("POST", path, kube::encode_eviction("team-a", "stuck"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(gone.body, HasSubstr("pods \\\"stuck\\\" not found"));
}

}  // namespace
}  // namespace qcp::test

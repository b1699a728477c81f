// Issue 21: the controller's API client against the fake API server, over real HTTPS: each
// exchange as kube-api/ recorded it (list pages, watch lines and their 410, TokenRequest,
// Secret and ServiceAccount writes with their 409s, the garbage collector). These tests hold
// the fake to the transcripts as much as they hold the client to the fake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "kube_fixture.hpp"
#include "qcp/kube/lease.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class KubeApi : public KubeFixture {
 protected:
  kube::ApiResponse call(std::string method, std::string path, std::string body = {},
                         std::string type = "application/json") {
    return client_.call({.method = std::move(method),
                         .path = std::move(path),
                         .body = std::move(body),
                         .content_type = std::move(type),
                         .timeout = 10s});
  }
};

// kube-api/01a-01c: pages of `limit`, a continue token on all but the last, one
// resourceVersion for every page.
TEST_F(KubeApi, AListComesInPagesAtTheFirstPagesResourceVersion) {
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    api_.add_service_account("team-a", name);
  }
  std::vector<std::string> names;
  std::string token;
  std::string first_version;
  for (int page = 0; page < 3; ++page) {
    const auto answer = call(
        "GET", "/api/v1/serviceaccounts?limit=2" + (token.empty() ? "" : "&continue=" + token));
    ASSERT_EQ(answer.status, 200) << answer.body;
    const auto list = kube::decode_service_account_list(answer.body);
    ASSERT_TRUE(list);
    first_version = first_version.empty() ? list->resource_version : first_version;
    EXPECT_EQ(list->resource_version, first_version);
    for (const auto& account : list->items) {
      names.push_back(account.meta.name);
    }
    token = list->continue_token;
    EXPECT_EQ(token.empty(), page == 2);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(call("GET", "/api/v1/serviceaccounts?limit=2&continue=garbage!").status, 400);
}

// kube-api/02a: events strictly after the resourceVersion, one line each.
TEST_F(KubeApi, AWatchFromTheListsVersionSeesTheChangesAfterIt) {
  api_.add_service_account("team-a", "puller");
  const auto list = kube::decode_service_account_list(call("GET", "/api/v1/serviceaccounts").body);
  ASSERT_TRUE(list);
  std::vector<kube::WatchEvent<kube::ServiceAccount>> seen;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    client_.watch(
        {.method = "GET",
         .path = "/api/v1/serviceaccounts?watch=1&allowWatchBookmarks=true&"
                 "resourceVersion=" +
                 list->resource_version + "&timeoutSeconds=30",
         .body = {},
         .content_type = {},
         .timeout = 40s},
        [&](std::string_view line) {
          if (auto event = kube::decode_service_account_event(line)) {
            seen.push_back(*event);
          }
          return seen.size() < 2;
        },
        [&] { return !done.load(); });
  });
  api_.annotate("team-a", "puller", "quay.io/federated-robot-account", "team+puller");
  api_.add_service_account("team-b", "other");
  watcher.join();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].type, kube::WatchEventType::kModified);
  EXPECT_EQ(seen[0].object->meta.annotations.at("quay.io/federated-robot-account"), "team+puller");
  EXPECT_EQ(seen[1].type, kube::WatchEventType::kAdded);
  EXPECT_EQ(seen[1].object->meta.namespace_name, "team-b");
}

// kube-api/03a, 03d: past the watch cache's window, HTTP 200 and one ERROR event, 410.
TEST_F(KubeApi, AWatchFromAForgottenVersionGetsTheExpiredErrorEventNotAn410) {
  api_.add_service_account("team-a", "puller");
  const auto before =
      kube::decode_service_account_list(call("GET", "/api/v1/serviceaccounts").body);
  api_.add_service_account("team-a", "later");
  api_.forget_watch_history();
  std::vector<kube::WatchEvent<kube::ServiceAccount>> seen;
  const auto answer = client_.watch(
      {.method = "GET",
       .path = "/api/v1/serviceaccounts?watch=1&resourceVersion=" + before->resource_version,
       .body = {},
       .content_type = {},
       .timeout = 10s},
      [&](std::string_view line) {
        seen.push_back(kube::decode_service_account_event(line).value());
        return true;
      },
      [] { return true; });
  EXPECT_EQ(answer.status, 200);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].type, kube::WatchEventType::kError);
  EXPECT_EQ(seen[0].error_code, 410);
  EXPECT_EQ(seen[0].error_reason, "Expired");
}

// kube-api/04a, 04b, 04e: a token the fake Quay's issuer signed, for that service account.
TEST_F(KubeApi, ATokenRequestGivesASignedTokenForTheServiceAccountAndRefusesShortLives) {
  api_.add_service_account("team-a", "puller");
  const auto answer = call("POST", "/api/v1/namespaces/team-a/serviceaccounts/puller/token",
                           kube::encode_token_request("quay", 600s));
  ASSERT_EQ(answer.status, 201) << answer.body;
  const auto issued = kube::decode_token_request(answer.body);
  ASSERT_TRUE(issued);
  const auto claims = decode_jwt_unverified(issued->token).value().payload;
  EXPECT_EQ(claims["sub"], "system:serviceaccount:team-a:puller");
  EXPECT_EQ(claims["aud"], json::array({"quay"}));
  EXPECT_EQ(claims["iss"], quay_.issuer_url());
  EXPECT_EQ(claims["exp"].get<std::int64_t>() - claims["iat"].get<std::int64_t>(), 600);
  EXPECT_FALSE(claims["kubernetes.io"].contains("pod"));

  const auto short_life = call("POST", "/api/v1/namespaces/team-a/serviceaccounts/puller/token",
                               kube::encode_token_request("quay", 599s));
  EXPECT_EQ(short_life.status, 422);
  EXPECT_THAT(short_life.body, HasSubstr("may not specify a duration less than 10 minutes"));
  const auto missing = call("POST", "/api/v1/namespaces/team-a/serviceaccounts/nosuch/token",
                            kube::encode_token_request("quay", 600s));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(kube::parse_status(missing.body)->message, "serviceaccounts \"nosuch\" not found");
}

// kube-api/05a, 05b, 05d, 05e.
TEST_F(KubeApi, SecretsAreCreatedOnceAndUpdatedOnlyFromTheirCurrentVersion) {
  api_.add_service_account("team-a", "puller");
  kube::SecretSpec spec{.name = "puller-quay",
                        .namespace_name = "team-a",
                        .labels = {{"app.kubernetes.io/managed-by", "quay-credential-provider"}},
                        .annotations = {},
                        .owner = {.api_version = "v1",
                                  .kind = "ServiceAccount",
                                  .name = "puller",
                                  .uid = "x",
                                  .controller = true},
                        .dockerconfigjson = R"({"auths":{}})",
                        .resource_version = ""};
  const auto created = call("POST", "/api/v1/namespaces/team-a/secrets", kube::encode_secret(spec));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto again = call("POST", "/api/v1/namespaces/team-a/secrets", kube::encode_secret(spec));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(kube::parse_status(again.body)->reason, "AlreadyExists");

  spec.resource_version = "1";
  const auto stale =
      call("PUT", "/api/v1/namespaces/team-a/secrets/puller-quay", kube::encode_secret(spec));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(kube::parse_status(stale.body)->reason, "Conflict");
  spec.resource_version = kube::decode_secret(created.body)->meta.resource_version;
  spec.dockerconfigjson = R"({"auths":{"q":{}}})";
  const auto updated =
      call("PUT", "/api/v1/namespaces/team-a/secrets/puller-quay", kube::encode_secret(spec));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_NE(kube::decode_secret(updated.body)->meta.resource_version, spec.resource_version);

  spec.dockerconfigjson = "not json";  // kube-api/05f; no resourceVersion: unconditional
  spec.resource_version = "";
  EXPECT_EQ(call("PUT", "/api/v1/namespaces/team-a/secrets/puller-quay", kube::encode_secret(spec))
                .status,
            422);
}

// kube-api/06a: the list is replaced whole; a stale resourceVersion in the patch is 409.
TEST_F(KubeApi, AMergePatchReplacesImagePullSecretsUnderItsResourceVersion) {
  api_.add_service_account("team-a", "puller");
  const auto account = kube::decode_service_account(
      call("GET", "/api/v1/namespaces/team-a/serviceaccounts/puller").body);
  ASSERT_TRUE(account);
  const auto stale =
      call("PATCH", "/api/v1/namespaces/team-a/serviceaccounts/puller",
           kube::encode_image_pull_secrets_patch({"mine"}, "1"), "application/merge-patch+json");
  EXPECT_EQ(stale.status, 409);
  const auto patched =
      call("PATCH", "/api/v1/namespaces/team-a/serviceaccounts/puller",
           kube::encode_image_pull_secrets_patch({"other", "mine"}, account->meta.resource_version),
           "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(kube::decode_service_account(patched.body)->image_pull_secrets,
            (std::vector<std::string>{"other", "mine"}));
  EXPECT_EQ(
      call("PATCH", "/api/v1/namespaces/team-a/serviceaccounts/puller", "{}", "application/json")
          .status,
      415);
}

// kube-api/05h, 11b.
TEST_F(KubeApi, DeletingTheServiceAccountCollectsItsSecretAndVerbsNotGrantedAre403) {
  api_.add_service_account("team-a", "puller");
  const auto uid = api_.service_account("team-a", "puller").value()["metadata"]["uid"];
  kube::SecretSpec spec{.name = "puller-quay",
                        .namespace_name = "team-a",
                        .labels = {},
                        .annotations = {},
                        .owner = {.api_version = "v1",
                                  .kind = "ServiceAccount",
                                  .name = "puller",
                                  .uid = uid.get<std::string>(),
                                  .controller = true},
                        .dockerconfigjson = "{}",
                        .resource_version = ""};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/team-a/secrets", kube::encode_secret(spec)).status,
            201);
  api_.delete_service_account("team-a", "puller");
  EXPECT_FALSE(api_.secret("team-a", "puller-quay"));

  const auto forbidden = call("DELETE", "/api/v1/namespaces/team-a/serviceaccounts/x");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(kube::parse_status(forbidden.body)->message,
            std::string("serviceaccounts \"x\" is forbidden: User \"") + kController +
                "\" cannot delete resource \"serviceaccounts\" in API group \"\" in the "
                "namespace \"team-a\"");
}

// kube-api/09a-09d: a Lease is created once, updated only from its current version (never
// without one), its times are MicroTime with exactly six digits, and the controller may touch
// Leases in its own namespace only.
TEST_F(KubeApi, LeasesAreCreatedOnceAndUpdatedFromTheirVersionWithMicroTimes) {
  kube::Lease lease;
  lease.meta.name = "qcp";
  lease.meta.namespace_name = "qcp-system";
  lease.holder = "pod-a";
  lease.duration = 15;
  lease.acquire_time = lease.renew_time = "2026-12-06T18:12:05.734329Z";
  const auto path = kube::lease_path("qcp-system");
  const auto created = call("POST", path, kube::encode_lease(lease));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["apiVersion"], "coordination.k8s.io/v1");
  const auto again = call("POST", path, kube::encode_lease(lease));
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, HasSubstr(R"(leases.coordination.k8s.io \"qcp\" already exists)"));

  const auto stored = kube::decode_lease(created.body).value();
  EXPECT_EQ(call("PUT", kube::lease_path("qcp-system", "qcp"), kube::encode_lease(lease)).status,
            422);  // no resourceVersion (09b)
  lease.meta.resource_version = stored.meta.resource_version;
  lease.renew_time = "2026-12-06T18:30:00Z";
  const auto coarse = call("PUT", kube::lease_path("qcp-system", "qcp"), kube::encode_lease(lease));
  EXPECT_EQ(coarse.status, 400);
  EXPECT_THAT(coarse.body, HasSubstr(R"(cannot parse \"Z\" as \".000000\")"));
  lease.renew_time = "2026-12-06T18:30:00.123456Z";
  EXPECT_EQ(call("PUT", kube::lease_path("qcp-system", "qcp"), kube::encode_lease(lease)).status,
            200);
  const auto stale = call("PUT", kube::lease_path("qcp-system", "qcp"), kube::encode_lease(lease));
  EXPECT_EQ(stale.status, 409);
  EXPECT_THAT(stale.body, HasSubstr("Operation cannot be fulfilled on leases.coordination.k8s.io"));

  lease.meta.namespace_name = "team-a";
  const auto elsewhere = call("POST", kube::lease_path("team-a"), kube::encode_lease(lease));
  EXPECT_EQ(elsewhere.status, 403);
  EXPECT_THAT(elsewhere.body, HasSubstr("in API group \\\"coordination.k8s.io\\\" in the "
                                        "namespace \\\"team-a\\\""));
}

}  // namespace
}  // namespace qcp::test

// Issue 21: the controller's view of ServiceAccounts, Secrets, TokenRequests and watch events,
// decoded from what a real kube-apiserver 1.36 sent (../shared/reference/kube-api/, cited per
// test) and encoded as it accepted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "layers.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::kube {
namespace {

using nlohmann::json;

// kube-api/01a: items carry no kind; the list's own resourceVersion and continue token.
TEST(KubeObjects, AServiceAccountListPageKeepsItsResourceVersionAndContinueToken) {
  const auto page = decode_service_account_list(R"js({"kind":"ServiceAccountList","apiVersion":"v1",
    "metadata":{"resourceVersion":"1854","continue":"eyJ2Ijo","remainingItemCount":47},
    "items":[{"metadata":{"name":"default","namespace":"default","uid":"21050a1d",
      "resourceVersion":"278","creationTimestamp":"2026-12-06T17:49:02Z"}},
     {"metadata":{"name":"puller","namespace":"team-a","uid":"6fe4","resourceVersion":"300",
      "annotations":{"quay.io/federated-robot-account":"team+puller"}},
      "imagePullSecrets":[{"name":"other"},{},{"name":"puller-quay-pull"}]}]})js");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->resource_version, "1854");
  EXPECT_EQ(page->continue_token, "eyJ2Ijo");
  ASSERT_EQ(page->items.size(), 2U);
  EXPECT_EQ(page->items[1].meta.namespace_name, "team-a");
  EXPECT_EQ(page->items[1].meta.annotations.at("quay.io/federated-robot-account"), "team+puller");
  // An empty {} entry (kube-api/06b) is kept as "": rewriting the list must keep its place.
  EXPECT_EQ(page->items[1].image_pull_secrets,
            (std::vector<std::string>{"other", "", "puller-quay-pull"}));
  EXPECT_FALSE(decode_service_account_list("[]"));
  EXPECT_FALSE(decode_service_account_list("not json"));
}

// kube-api/02a and 03a: the lines of a watch.
TEST(KubeObjects, WatchLinesDecodeToEventsBookmarksAndTheExpiredError) {
  const auto modified = decode_service_account_event(
      R"js({"type":"MODIFIED","object":{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"app1","namespace":"team-b","uid":"107f","resourceVersion":"1868","annotations":{"quay.io/federated-robot-account":"team+app1"}}}})js");
  ASSERT_TRUE(modified);
  EXPECT_EQ(modified->type, WatchEventType::kModified);
  EXPECT_EQ(modified->resource_version, "1868");
  ASSERT_TRUE(modified->object);
  EXPECT_EQ(modified->object->meta.name, "app1");

  const auto bookmark = decode_service_account_event(
      R"js({"type":"BOOKMARK","object":{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"resourceVersion":"1885"}}})js");
  ASSERT_TRUE(bookmark);
  EXPECT_EQ(bookmark->type, WatchEventType::kBookmark);
  EXPECT_EQ(bookmark->resource_version, "1885");
  EXPECT_FALSE(bookmark->object);

  const auto expired = decode_service_account_event(
      R"js({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1000 (1797)","reason":"Expired","code":410}})js");
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->type, WatchEventType::kError);
  EXPECT_EQ(expired->error_code, 410);
  EXPECT_EQ(expired->error_reason, "Expired");

  EXPECT_FALSE(decode_service_account_event(R"js({"type":"RENAMED","object":{}})js"));
  EXPECT_FALSE(decode_service_account_event(R"js({"type":"ADDED","object":{"metadata":{}}})js"));
}

// Found by kube_fuzz: a field of an unexpected type is "not that object", never an exception.
TEST(KubeObjects, FieldsOfTheWrongTypeAreNotExceptions) {
  EXPECT_FALSE(parse_status(R"js({"kind":{"tokTimestamp":"2026-12-06T101Z~"}})js"));
  const auto status = parse_status(R"js({"kind":"Status","code":"410","reason":7})js");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0);
  EXPECT_EQ(status->reason, "");
  const auto event = decode_service_account_event(
      R"js({"type":"ERROR","object":{"kind":"Status","code":"410","reason":7}})js");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->error_code, 0);
  const auto secret = decode_secret(
      R"js({"kind":"Secret","metadata":{"name":"s","ownerReferences":[{"controller":"yes"},7]}})js");
  ASSERT_TRUE(secret);
  ASSERT_EQ(secret->owners.size(), 2U);
  EXPECT_FALSE(secret->owners[0].controller);
}

// kube-api/04a.
TEST(KubeObjects, ATokenRequestAsksForTheAudienceAndLifetimeAndItsAnswerGivesTheToken) {
  EXPECT_EQ(json::parse(encode_token_request("quay", std::chrono::seconds{600})),
            json::parse(R"js({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
              "spec":{"audiences":["quay"],"expirationSeconds":600}})js"));
  const auto issued = decode_token_request(R"js({"kind":"TokenRequest","status":{
    "token":"eyJhbGciOi.eyJhdWQiOlsicXVheSJd.c2ln","expirationTimestamp":"2026-12-06T18:18:01Z"}})js");
  ASSERT_TRUE(issued);
  EXPECT_EQ(issued->token, "eyJhbGciOi.eyJhdWQiOlsicXVheSJd.c2ln");
  EXPECT_EQ(issued->expiration_timestamp, "2026-12-06T18:18:01Z");
  EXPECT_FALSE(decode_token_request(R"js({"kind":"Status","code":404})js"));
}

// kube-api/05a: what was created, and what reading it back shows.
TEST(KubeObjects, ADockerConfigSecretCarriesItsOwnerLabelsAndBase64DataAndReadsBack) {
  const std::string config =
      R"js({"auths":{"quay.example":{"auth":"dGVhbStwdWxsZXI6c2VjcmV0"}}})js";
  const std::string body = encode_secret({.name = "puller-quay-pull",
                                          .namespace_name = "team-a",
                                          .labels = {{"app.kubernetes.io/managed-by", "qcp"}},
                                          .annotations = {{"robot", "team+puller"}},
                                          .owner = {.api_version = "v1",
                                                    .kind = "ServiceAccount",
                                                    .name = "puller",
                                                    .uid = "6fe4",
                                                    .controller = true},
                                          .dockerconfigjson = config,
                                          .resource_version = "1989"});
  const auto sent = json::parse(body);
  EXPECT_EQ(sent["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(sent["data"][".dockerconfigjson"], base64_encode(config));
  EXPECT_EQ(sent["metadata"]["resourceVersion"], "1989");
  EXPECT_EQ(sent["metadata"]["ownerReferences"][0]["uid"], "6fe4");
  EXPECT_EQ(sent["metadata"]["ownerReferences"][0]["blockOwnerDeletion"], false);

  const auto back = decode_secret(body);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "kubernetes.io/dockerconfigjson");
  ASSERT_EQ(back->owners.size(), 1U);
  EXPECT_TRUE(back->owners[0].controller);
  EXPECT_EQ(back->dockerconfigjson_sha256, sha256_hex(base64_encode(config)));
  EXPECT_EQ(back->meta.labels.at("app.kubernetes.io/managed-by"), "qcp");
}

// kube-api/06a: the list is replaced whole, under the resourceVersion read.
TEST(KubeObjects, TheImagePullSecretsPatchReplacesTheListUnderAResourceVersion) {
  EXPECT_EQ(json::parse(encode_image_pull_secrets_patch({"other", "mine"}, "2041")),
            json::parse(R"js({"metadata":{"resourceVersion":"2041"},
              "imagePullSecrets":[{"name":"other"},{"name":"mine"}]})js"));
}

}  // namespace
}  // namespace qcp::kube

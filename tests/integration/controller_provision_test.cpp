// Issue 21: one annotated ServiceAccount provisioned for real: a TokenRequest at the fake API
// server, whose token the fake Quay's issuer signed, exchanged at the fake Quay, the Secret
// written and referenced, over real HTTPS both ways.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube_fixture.hpp"
#include "no_leak.hpp"
#include "qcp/controller/provision.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/log.hpp"
#include "qcp/net/curl_http.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class Provision : public KubeFixture {
 protected:
  Provision() {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
    api_.add_service_account("team-a", "puller", {{"quay.io/federated-robot-account", kRobot}});
    settings_.quay_host = quay_.host();
    exchange_.trust = {.ca_file = "", .ca_dir = "", .ca_pem = pki_.ca_pem(), .source = "test CA"};
    exchange_.uniform = [] { return 0.0; };
  }

  ServiceAccount account(const std::string& name = "puller") {
    return decode_service_account(api_.service_account("team-a", name).value().dump()).value();
  }
  Provisioned provision(const ServiceAccount& which,
                        const std::optional<Secret>& cached = std::nullopt) {
    return controller::provision(client_, quay_http_, which, cached, settings_, exchange_, clock_,
                                 *log_);
  }
  // The Secret as an informer would hold it now.
  std::optional<Secret> cached_secret() {
    return decode_secret(api_.secret("team-a", "puller-quay-pull").value().dump());
  }
  // The requests since clear_requests() for the Secret, as "METHOD last-path-segment".
  std::vector<std::string> secret_requests() {
    std::vector<std::string> seen;
    for (const auto& request : api_.requests()) {
      if (request.path.find("/secrets") != std::string::npos) {
        seen.push_back(request.method + " " + request.path.substr(request.path.rfind('/') + 1));
      }
    }
    return seen;
  }
  std::string failure_of(const ServiceAccount& which) {
    try {
      provision(which);
    } catch (const Failure& failure) {
      return failure.what();
    }
    return "no failure";
  }
  net::CurlHttpClient quay_http_;
  std::ostringstream log_text_;
  std::unique_ptr<Log> log_ = make_logger(log_text_, LogLevel::kDebug);
  ProvisionSettings settings_;
  ExchangeSettings exchange_;
};

TEST_F(Provision, ASecretOwnedByTheServiceAccountHoldsTheRobotsTokenAndIsReferenced) {
  api_.add_service_account("team-a", "other");
  auto before = account();
  const auto done = provision(before);
  EXPECT_TRUE(done.secret_created);
  EXPECT_TRUE(done.reference_added);
  EXPECT_EQ(done.secret_name, "puller-quay-pull");
  EXPECT_TRUE(done.credential.token.empty());  // wiped: only when it expires is kept

  const auto secret = api_.secret("team-a", "puller-quay-pull").value();
  EXPECT_EQ(secret["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "quay-credential-provider");
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0]["uid"], before.meta.uid);
  EXPECT_EQ(secret["metadata"]["annotations"]["quay-credential-provider/robot"], kRobot);
  const auto config =
      json::parse(base64_decode(secret["data"][".dockerconfigjson"].get<std::string>()).value());
  const auto auth = base64_decode(config["auths"][quay_.host()]["auth"].get<std::string>());
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->substr(0, auth->find(':')), kRobot);
  const auto robot_token = auth->substr(auth->find(':') + 1);
  EXPECT_EQ(decode_jwt_unverified(robot_token).value().payload["sub"], kRobot);

  EXPECT_EQ(api_.service_account("team-a", "puller").value()["imagePullSecrets"],
            json::parse(R"([{"name":"puller-quay-pull"}])"));
  expect_no_leak(log_text_.str(), {robot_token});
}

TEST_F(Provision, RenewingReplacesTheSecretAndKeepsTheReferenceOnceBesideOthers) {
  ASSERT_TRUE(provision(account()).secret_created);
  // Someone else's entry is added beside ours between two runs.
  api_.set_image_pull_secrets("team-a", "puller", {"other", "puller-quay-pull"});
  api_.clear_requests();
  const auto second = provision(account());
  EXPECT_FALSE(second.secret_created);
  EXPECT_FALSE(second.reference_added);
  const auto requests = api_.requests();
  EXPECT_TRUE(std::any_of(requests.begin(), requests.end(), [](const RecordedRequest& request) {
    return request.method == "PUT" && request.path.ends_with("/secrets/puller-quay-pull");
  }));
  EXPECT_EQ(api_.service_account("team-a", "puller").value()["imagePullSecrets"],
            json::parse(R"([{"name":"other"},{"name":"puller-quay-pull"}])"));
}

// A renewal goes from the informer's copy: one conditional PUT, no read (issue 25: one Secret
// write per renewal).
TEST_F(Provision, ARenewalFromTheCachedSecretWritesWithoutReadingIt) {
  ASSERT_TRUE(provision(account()).secret_created);
  const auto cached = cached_secret();
  api_.clear_requests();
  EXPECT_FALSE(provision(account(), cached).secret_created);
  EXPECT_EQ(secret_requests(), std::vector<std::string>{"PUT puller-quay-pull"});
  // Conditional on the cached version (kube-api/05e), never an unconditional update.
  const auto requests = api_.requests();
  const auto put =
      std::find_if(requests.begin(), requests.end(),
                   [](const RecordedRequest& request) { return request.method == "PUT"; });
  ASSERT_NE(put, requests.end());
  EXPECT_EQ(json::parse(put->body)["metadata"]["resourceVersion"], cached->meta.resource_version);
}

// kube-api/05d: the cache had not seen a later write; the PUT meets 409, and the Secret is read
// and written again from its current version.
TEST_F(Provision, AStaleCachedVersionIsReadAgainAfterTheConflict) {
  ASSERT_TRUE(provision(account()).secret_created);
  const auto stale = cached_secret();
  // Changed since, by someone else: the cached version is stale.
  auto changed = api_.secret("team-a", "puller-quay-pull").value();
  changed["metadata"]["labels"]["team"] = "a";
  ASSERT_EQ(client_
                .call({.method = "PUT",
                       .path = "/api/v1/namespaces/team-a/secrets/puller-quay-pull",
                       .body = changed.dump(),
                       .content_type = "application/json",
                       .timeout = 10s})
                .status,
            200);
  api_.clear_requests();
  EXPECT_FALSE(provision(account(), stale).secret_created);
  EXPECT_EQ(secret_requests(),
            (std::vector<std::string>{"PUT puller-quay-pull", "GET puller-quay-pull",
                                      "PUT puller-quay-pull"}));
}

// Deleted since the cache saw it: the PUT is 404, the read says so, and it is created.
TEST_F(Provision, ACachedSecretDeletedSinceIsCreatedAgain) {
  ASSERT_TRUE(provision(account()).secret_created);
  const auto cached = cached_secret();
  ASSERT_EQ(client_
                .call({.method = "DELETE",
                       .path = "/api/v1/namespaces/team-a/secrets/puller-quay-pull",
                       .body = {},
                       .content_type = {},
                       .timeout = 10s})
                .status,
            200);
  api_.clear_requests();
  EXPECT_TRUE(provision(account(), cached).secret_created);
  EXPECT_EQ(secret_requests(), (std::vector<std::string>{"PUT puller-quay-pull",
                                                         "GET puller-quay-pull", "POST secrets"}));
}

// kube-api/05b: not in the cache yet but there (written by a replica before this one): the
// create is 409 AlreadyExists, and it is replaced from the version read.
TEST_F(Provision, ASecretTheCacheHasNotSeenIsReadAfterTheCreateMeetsIt) {
  ASSERT_TRUE(provision(account()).secret_created);
  api_.clear_requests();
  EXPECT_FALSE(provision(account()).secret_created);
  EXPECT_EQ(secret_requests(), (std::vector<std::string>{"POST secrets", "GET puller-quay-pull",
                                                         "PUT puller-quay-pull"}));
}

// kube-api/05d, 06a: writes under a version read; 409 means read again.
TEST_F(Provision, AConflictStormShorterThanTheAttemptsIsRiddenOut) {
  api_.conflict_next(2);
  const auto done = provision(account());
  EXPECT_TRUE(done.reference_added);
  EXPECT_TRUE(api_.secret("team-a", "puller-quay-pull"));
}

TEST_F(Provision, QuaysRefusalNamesTheServiceAccountAndWritesNothing) {
  quay_.add_robot(kRobot, {});  // no federation configured for the robot
  const auto message = failure_of(account());
  EXPECT_THAT(message, HasSubstr("ServiceAccount team-a/puller: "));
  EXPECT_THAT(message, HasSubstr("Quay"));
  EXPECT_FALSE(api_.secret("team-a", "puller-quay-pull"));
  EXPECT_FALSE(api_.service_account("team-a", "puller").value().contains("imagePullSecrets"));
}

TEST_F(Provision, AHostTheControllerDoesNotAllowIsRefusedBeforeAnyRequest) {
  api_.annotate("team-a", "puller", "quay.io/host", "evil.example.com");
  api_.clear_requests();
  const auto message = failure_of(account());
  EXPECT_THAT(message, HasSubstr("add --allowed-host=evil.example.com"));
  EXPECT_TRUE(api_.requests().empty());
  EXPECT_EQ(quay_.request_count(), 0U);
}

TEST_F(Provision, ASecretSomeoneElseOwnsUnderThatNameIsLeftAlone) {
  ASSERT_EQ(client_
                .call({.method = "POST",
                       .path = "/api/v1/namespaces/team-a/secrets",
                       .body = R"({"metadata":{"name":"puller-quay-pull"},"type":"Opaque"})",
                       .content_type = "application/json",
                       .timeout = 10s})
                .status,
            201);
  EXPECT_THAT(failure_of(account()), HasSubstr("is not managed by quay-credential-provider"));
  EXPECT_EQ(api_.secret("team-a", "puller-quay-pull").value()["type"], "Opaque");
}

}  // namespace
}  // namespace qcp::test

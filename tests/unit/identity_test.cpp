#include "qcp/quay/identity.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;

CredentialProviderRequest request_for(std::string image,
                                      std::map<std::string, std::string, std::less<>> annotations) {
  CredentialProviderRequest request;
  request.api_version = "credentialprovider.kubelet.k8s.io/v1";
  request.image = std::move(image);
  request.service_account_token = "tok";
  request.service_account_annotations = std::move(annotations);
  return request;
}

Identity resolve_identity(const CredentialProviderRequest& request,
                          const std::vector<std::string>& allowed) {
  auto resolution = resolve_identities(request, {.allowed_hosts = allowed});
  EXPECT_EQ(resolution.identities.size(), 1U);
  EXPECT_EQ(resolution.rule, "");
  return resolution.identities.at(0);
}

std::string failure_of(const CredentialProviderRequest& request,
                       std::vector<std::string> allowed = {}) {
  try {
    static_cast<void>(resolve_identities(request, {.allowed_hosts = allowed}));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kBadRequest);
    return failure.what();
  }
  ADD_FAILURE() << "no failure";
  return {};
}

TEST(RobotName, FollowsQuaysNameRule) {
  for (const char* good : {"team+puller", "my-org+ci_bot", "a.b+c-d", "00+11", "org+r.o_b-t"}) {
    EXPECT_TRUE(is_valid_robot_name(good)) << good;
  }
  for (const char* bad : {"", "team", "+puller", "team+", "Team+puller", "team+pu ller",
                          "team+puller+x", "t+puller", "team+p", "-team+puller", "team_+puller",
                          "team+puller-", "te..am+puller", "team%2Bpuller", "team:puller"}) {
    EXPECT_FALSE(is_valid_robot_name(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_robot_name(std::string(255, 'a') + "+" + std::string(255, 'b')));
  EXPECT_FALSE(is_valid_robot_name(std::string(256, 'a') + "+bot"));
}

TEST(ResolveIdentity, UsesTheAnnotatedRobotAndTheImagesRegistry) {
  const auto identity =
      resolve_identity(request_for("quay.example.com:8443/team/app",
                                   {{"quay.io/federated-robot-account", "team+puller"}}),
                       {});
  EXPECT_EQ(identity.robot, "team+puller");
  EXPECT_EQ(identity.registry, "quay.example.com:8443");
  EXPECT_EQ(identity.quay_host, "quay.example.com:8443");
}

TEST(ResolveIdentity, NamesTheMissingAnnotation) {
  EXPECT_THAT(failure_of(request_for("quay.io/a/b", {})),
              HasSubstr("no annotation quay.io/federated-robot-account"));
  EXPECT_THAT(failure_of(request_for("quay.io/a/b", {{"quay.io/federated-robot-account", ""}})),
              HasSubstr("no annotation quay.io/federated-robot-account"));
}

TEST(ResolveIdentity, RejectsAMalformedRobotWithoutEchoingIt) {
  const auto message = failure_of(
      request_for("quay.io/a/b", {{"quay.io/federated-robot-account", "eyJhbGciOiJ.secret"}}));
  EXPECT_THAT(message, HasSubstr("not a Quay robot name"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("eyJ")));
}

TEST(ResolveIdentity, HostAnnotationEqualToTheRegistryNeedsNoAllowList) {
  const auto identity = resolve_identity(
      request_for("quay.io/a/b", {{"quay.io/federated-robot-account", "team+puller"},
                                  {"quay.io/host", "quay.io"}}),
      {});
  EXPECT_EQ(identity.quay_host, "quay.io");
}

TEST(ResolveIdentity, HostAnnotationMustBeAllowedByTheNode) {
  const auto request =
      request_for("mirror.example.com/a/b", {{"quay.io/federated-robot-account", "team+puller"},
                                             {"quay.io/host", "quay.example.com:8443"}});
  EXPECT_THAT(failure_of(request), HasSubstr("--allowed-host=quay.example.com:8443"));
  EXPECT_THAT(failure_of(request, {"quay.example.com"}), HasSubstr("nor allowed on this node"));

  const auto identity =
      resolve_identity(request, std::vector<std::string>{"quay.example.com:8443"});
  EXPECT_EQ(identity.quay_host, "quay.example.com:8443");
  EXPECT_EQ(identity.registry, "mirror.example.com");  // the auth key stays the image's registry
}

TEST(ResolveIdentity, HostAnnotationCannotCarrySchemeOrPath) {
  for (const char* host : {"http://quay.io", "quay.io/evil", "quay.io:0", "evil.com@quay.io"}) {
    EXPECT_THAT(
        failure_of(request_for("quay.io/a/b", {{"quay.io/federated-robot-account", "team+puller"},
                                               {"quay.io/host", host}}),
                   {host}),
        HasSubstr("not a valid host[:port]"))
        << host;
  }
}

TEST(ResolveIdentity, SeveralRobotsOnePerOrganisationTheImagesOwnFirst) {
  const auto resolution = resolve_identities(
      request_for("quay.io/team_b/app",
                  {{"quay.io/federated-robot-account", "team_a+puller, team_b+ci ,team_c+xx"}}),
      {});
  ASSERT_EQ(resolution.identities.size(), 3U);
  EXPECT_EQ(resolution.identities[0].robot, "team_b+ci");
  EXPECT_EQ(resolution.identities[1].robot, "team_a+puller");
  EXPECT_EQ(resolution.identities[2].robot, "team_c+xx");
  for (const auto& identity : resolution.identities) {
    EXPECT_EQ(identity.quay_host, "quay.io");
  }
}

TEST(ResolveIdentity, SeveralRobotsMustBeValidAndOfDistinctOrganisations) {
  EXPECT_THAT(failure_of(request_for("quay.io/a/b",
                                     {{"quay.io/federated-robot-account", "team+aa,team+bb"}})),
              HasSubstr("two robots of the organisation team"));
  EXPECT_THAT(failure_of(request_for("quay.io/a/b",
                                     {{"quay.io/federated-robot-account", "team+aa,,other+bb"}})),
              HasSubstr("comma-separated list"));
  std::string many;
  for (int i = 0; i < 17; ++i) {
    many += (many.empty() ? "" : ",") + std::string("org") + std::to_string(i + 10) + "+bot";
  }
  EXPECT_THAT(failure_of(request_for("quay.io/a/b", {{"quay.io/federated-robot-account", many}})),
              HasSubstr("more than 16 robots"));
}

TEST(AccountOfSubject, ReadsOnlyServiceAccountSubjects) {
  const auto account = account_of_subject("system:serviceaccount:team-a:builder");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->namespace_name, "team-a");
  EXPECT_EQ(account->name, "builder");
  for (const char* bad :
       {"", "system:serviceaccount:", "system:serviceaccount:ns", "system:serviceaccount::sa",
        "system:serviceaccount:ns:", "system:serviceaccount:ns:sa:x", "user:ns:sa",
        "system:node:ns:sa", "system:serviceaccount:ns:a\nb", "system:serviceaccount:NS:sa",
        "system:serviceaccount:ns:sa x"}) {
    EXPECT_FALSE(account_of_subject(bad)) << bad;
  }
}

}  // namespace
}  // namespace qcp

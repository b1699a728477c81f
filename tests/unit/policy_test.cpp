// Issue 23: the admin's credential policy, parsed strictly and applied by the service account of
// the token the kubelet sends.
#include "qcp/quay/policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "jwt.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/identity.hpp"

namespace qcp {
namespace policy_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPath = "/etc/qcp/policy.yaml";

const char* const kMultiTenant = R"(apiVersion: quay-credential-provider/v1
kind: CredentialPolicy
rules:
  - namespaces: ["team-a", "team-a-*"]
    serviceAccounts: ["*"]
    robots: ["team_a+*"]
    defaultRobot: team_a+puller
    quayHosts: ["quay.example.com"]
  - namespaces: ["ci"]
    serviceAccounts: ["builder"]
    robots: ["team_a+ci", "team_b+ci"]
  - namespaces: ["*"]
    robots: []
)";

std::string failure_of_parse(const std::string& text) {
  try {
    static_cast<void>(parse_policy(text, kPath));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    return failure.what();
  }
  ADD_FAILURE() << "parsed: " << text;
  return {};
}

std::string with_rule(const std::string& rule) {
  return "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nrules:\n" + rule;
}

std::string token_of(const std::string& namespace_name, const std::string& account) {
  const auto header = test::base64url_encode(R"({"alg":"RS256","kid":"k"})");
  const auto payload = test::base64url_encode(
      R"({"iss":"https://issuer","sub":"system:serviceaccount:)" + namespace_name + ":" + account +
      R"(","aud":["quay"],"exp":4102444800})");
  return header + "." + payload + ".c2ln";
}

CredentialProviderRequest request_for(const std::string& image, const std::string& namespace_name,
                                      const std::string& account,
                                      std::map<std::string, std::string, std::less<>> annotations) {
  CredentialProviderRequest request;
  request.api_version = "credentialprovider.kubelet.k8s.io/v1";
  request.image = image;
  request.service_account_token = token_of(namespace_name, account);
  request.service_account_annotations = std::move(annotations);
  return request;
}

std::string refusal(const CredentialProviderRequest& request, const Policy& policy) {
  try {
    static_cast<void>(resolve_identities(request, {.allowed_hosts = {}, .policy = &policy}));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kBadRequest);
    return failure.what();
  }
  ADD_FAILURE() << "allowed";
  return {};
}

TEST(PolicyParse, ReadsTheIssuesShape) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  EXPECT_EQ(policy.robot_annotation, "quay.io/federated-robot-account");
  EXPECT_EQ(policy.host_annotation, "quay.io/host");
  ASSERT_EQ(policy.rules.size(), 3U);
  EXPECT_EQ(policy.rules[0].line, 4);
  EXPECT_EQ(policy.rules[0].default_robots, std::vector<std::string>{"team_a+puller"});
  EXPECT_EQ(policy.rules[0].quay_hosts, std::vector<std::string>{"quay.example.com"});
  EXPECT_EQ(policy.rules[2].service_accounts, std::vector<std::string>{"*"});
  EXPECT_TRUE(policy.rules[2].robots.empty());
  EXPECT_EQ(rule_name(policy, policy.rules[1]), "rule 2 (/etc/qcp/policy.yaml:9)");
}

TEST(PolicyParse, AnnotationKeysCanBeChosen) {
  const Policy policy = parse_policy(
      "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nannotations:\n"
      "  robot: example.com/robot\n  host: example.com/quay-host\nrules: []\n",
      kPath);
  EXPECT_EQ(policy.robot_annotation, "example.com/robot");
  EXPECT_EQ(policy.host_annotation, "example.com/quay-host");
  EXPECT_TRUE(policy.rules.empty());
}

TEST(PolicyParse, EveryMistakeIsOneLineNamingFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"apiVersion: v1\nkind: CredentialPolicy\nrules: []\n", ":1: apiVersion must be"},
      {"apiVersion: quay-credential-provider/v1\nkind: Policy\nrules: []\n", ":2: kind must be"},
      {"apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n", "has no rules"},
      {with_rule("  - namespaces: [a]\n    robot: [x+y]\n"), ":5: unknown field \"robot\""},
      {with_rule("  - namespaces: [a]\n"), ":4: the rule gives neither robots nor defaultRobot"},
      {with_rule("  - robots: [ab+cd]\n"), ":4: the rule has no namespaces"},
      {with_rule("  - namespaces: []\n    robots: [ab+cd]\n"), "namespaces is empty"},
      {with_rule("  - namespaces: team-a\n    robots: [ab+cd]\n"),
       ":4: namespaces must be a list, not a string"},
      {with_rule("  - namespaces: [\"[a\"]\n    robots: [ab+cd]\n"), "not a valid glob"},
      {with_rule("  - namespaces: [a]\n    robots: [puller]\n"), ":5: robots entry \"puller\""},
      {with_rule("  - namespaces: [a]\n    robots: [Team+Puller]\n"), "not a Quay robot name"},
      {with_rule("  - namespaces: [a]\n    robots: [5]\n"), "must be a string, not a number"},
      {with_rule("  - namespaces: [a]\n    defaultRobot: ab+cd,ab+ef\n"),
       "two robots of the organisation \"ab\""},
      {with_rule("  - namespaces: [a]\n    defaultRobot: ab+cd\n    quayHosts: [https://q]\n"),
       ":6: quayHosts entry \"https://q\" is not HOST[:PORT]"},
      {with_rule("  - namespaces: [a]\n    defaultRobot: ab+cd\n    quayHosts: []\n"),
       "quayHosts is empty"},
      {with_rule("  - namespaces: [a]\n    robots: [ab+cd]\n    robots: [ab+ef]\n"), ":6:"},
      {with_rule("  - namespaces: [a]\n    robots: [ab+cd]\n---\nrules: []\n"),
       ":6: a second document"},
      {"apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nannotations:\n"
       "  robot: not a key\nrules: []\n",
       ":4: annotations.robot \"not a key\" is not an annotation key"},
      {"apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nannotations:\n"
       "  robot: a.io/x\n  host: a.io/x\nrules: []\n",
       "are the same key"},
      {"", ":1: the file holds no policy"},
      {"[1, 2]", ":1: the policy must be a mapping"},
      {"rules: [\n", kPath},
  };
  for (const auto& [text, expected] : cases) {
    const auto message = failure_of_parse(text);
    EXPECT_THAT(message, HasSubstr(expected)) << text;
    EXPECT_THAT(message, HasSubstr(std::string(kPath) + ":")) << text;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(PolicyRules, TheFirstMatchingRuleAppliesByNamespaceAndServiceAccountGlobs) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  EXPECT_EQ(find_rule(policy, "team-a", "default"), &policy.rules[0]);
  EXPECT_EQ(find_rule(policy, "team-a-dev", "x"), &policy.rules[0]);
  EXPECT_EQ(find_rule(policy, "ci", "builder"), &policy.rules[1]);
  EXPECT_EQ(find_rule(policy, "ci", "other"), &policy.rules[2]);
  EXPECT_EQ(find_rule(policy, "team-ab", "x"), &policy.rules[2]);
  const Policy no_catch_all =
      parse_policy(with_rule("  - namespaces: [a]\n    robots: []\n"), kPath);
  EXPECT_EQ(find_rule(no_catch_all, "b", "x"), nullptr);
}

TEST(PolicyResolve, AnAllowedRobotByGlob) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  const auto resolution =
      resolve_identities(request_for("quay.example.com/team_a/app", "team-a-dev", "web",
                                     {{"quay.io/federated-robot-account", "team_a+deployer"}}),
                         {.allowed_hosts = {}, .policy = &policy});
  ASSERT_EQ(resolution.identities.size(), 1U);
  EXPECT_EQ(resolution.identities[0].robot, "team_a+deployer");
  EXPECT_EQ(resolution.rule, "rule 1 (/etc/qcp/policy.yaml:4)");
  EXPECT_FALSE(resolution.defaulted);
}

TEST(PolicyResolve, TheDefaultRobotWhenTheServiceAccountNamesNone) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  const auto resolution =
      resolve_identities(request_for("quay.example.com/team_a/app", "team-a", "default", {}),
                         {.allowed_hosts = {}, .policy = &policy});
  ASSERT_EQ(resolution.identities.size(), 1U);
  EXPECT_EQ(resolution.identities[0].robot, "team_a+puller");
  EXPECT_TRUE(resolution.defaulted);
}

TEST(PolicyResolve, ARobotOutsideTheRuleIsRefusedNamingTheRule) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  const auto message = refusal(request_for("quay.example.com/team_b/app", "team-a", "web",
                                           {{"quay.io/federated-robot-account", "team_b+puller"}}),
                               policy);
  EXPECT_THAT(message, HasSubstr("the robot team_b+puller is not allowed for the service account "
                                 "team-a/web by rule 1 (/etc/qcp/policy.yaml:4)"));
  // One robot of several refused refuses the request: the annotation asked for all of them.
  EXPECT_THAT(refusal(request_for("quay.example.com/team_a/app", "ci", "builder",
                                  {{"quay.io/federated-robot-account", "team_a+ci,team_c+ci"}}),
                      policy),
              HasSubstr("team_c+ci is not allowed"));
}

TEST(PolicyResolve, DenyByDefault) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  EXPECT_THAT(refusal(request_for("quay.example.com/xo/app", "other", "web",
                                  {{"quay.io/federated-robot-account", "xo+puller"}}),
                      policy),
              HasSubstr("not allowed for the service account other/web by rule 3"));
  const Policy narrow =
      parse_policy(with_rule("  - namespaces: [a]\n    robots: [\"*+*\"]\n"), kPath);
  EXPECT_THAT(refusal(request_for("quay.example.com/xo/app", "b", "web",
                                  {{"quay.io/federated-robot-account", "xo+puller"}}),
                      narrow),
              HasSubstr("no rule of the policy /etc/qcp/policy.yaml covers the service account "
                        "b/web"));
  // No annotation and no default robot.
  EXPECT_THAT(refusal(request_for("quay.example.com/team_a/app", "ci", "builder", {}), policy),
              HasSubstr("no annotation quay.io/federated-robot-account and rule 2"));
}

TEST(PolicyResolve, QuayHostsRestrictWhereTheTokenGoesEvenTheImagesRegistry) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  EXPECT_THAT(refusal(request_for("evil.example.com/team_a/app", "team-a", "web", {}), policy),
              HasSubstr("the Quay host evil.example.com is not among the quayHosts of rule 1"));
  // A mirror whose exchange the annotation sends to the rule's Quay: no --allowed-host needed.
  const auto resolution =
      resolve_identities(request_for("mirror.example.com/team_a/app", "team-a", "web",
                                     {{"quay.io/host", "quay.example.com"}}),
                         {.allowed_hosts = {}, .policy = &policy});
  EXPECT_EQ(resolution.identities.at(0).quay_host, "quay.example.com");
  EXPECT_EQ(resolution.identities.at(0).registry, "mirror.example.com");
  // A rule without quayHosts keeps --allowed-host's rule.
  EXPECT_THAT(refusal(request_for("quay.example.com/team_a/app", "ci", "builder",
                                  {{"quay.io/federated-robot-account", "team_a+ci"},
                                   {"quay.io/host", "other.example.com"}}),
                      policy),
              HasSubstr("--allowed-host=other.example.com"));
}

TEST(PolicyResolve, ConfiguredAnnotationKeysAreTheOnesRead) {
  const Policy policy = parse_policy(
      "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nannotations:\n"
      "  robot: example.com/robot\nrules:\n  - namespaces: ['*']\n    robots: ['*+*']\n",
      kPath);
  const auto resolution = resolve_identities(
      request_for(
          "quay.example.com/team_a/app", "a", "b",
          {{"example.com/robot", "team_a+xx"}, {"quay.io/federated-robot-account", "oo+yy"}}),
      {.allowed_hosts = {}, .policy = &policy});
  EXPECT_EQ(resolution.identities.at(0).robot, "team_a+xx");
  EXPECT_THAT(refusal(request_for("quay.example.com/team_a/app", "a", "b",
                                  {{"quay.io/federated-robot-account", "oo+yy"}}),
                      policy),
              HasSubstr("no annotation example.com/robot"));
}

TEST(PolicyResolve, ATokenWithoutAServiceAccountSubjectIsRefusedWithoutEchoingIt) {
  const Policy policy = parse_policy(kMultiTenant, kPath);
  auto request = request_for("quay.example.com/team_a/app", "team-a", "web", {});
  request.service_account_token = "not-a-jwt-but-a-secret-value";
  const auto message = refusal(request, policy);
  EXPECT_THAT(message, HasSubstr("sub is not system:serviceaccount:NAMESPACE:NAME"));
  EXPECT_THAT(message, Not(HasSubstr("secret")));
}

TEST(SplitRobots, TrimsSpacesAndKeepsEmptyItems) {
  EXPECT_EQ(split_robots(" a+b ,c+d"), (std::vector<std::string>{"a+b", "c+d"}));
  EXPECT_EQ(split_robots("a+b,,"), (std::vector<std::string>{"a+b", "", ""}));
  EXPECT_EQ(split_robots(""), (std::vector<std::string>{""}));
}

}  // namespace
}  // namespace policy_test
}  // namespace qcp

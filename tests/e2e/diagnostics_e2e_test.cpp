// The diagnostics subcommands of the built executable: check-config over every example we ship,
// inspect over real RS256 service-account tokens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_quay.hpp"
#include "no_leak.hpp"
#include "pki.hpp"
#include "subprocess.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::filesystem::path kExamples = QCP_EXAMPLES_DIR;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(CheckConfigBinary, EveryExampleConfigPasses) {
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    // The file's own kind, not a mention in a comment.
    const auto text = "\n" + read_text(entry.path());
    if (text.find("\nkind: CredentialProviderConfig") == std::string::npos &&
        text.find("\"kind\":\"CredentialProviderConfig\"") == std::string::npos) {
      continue;
    }
    ++configs;
    const auto result = run_process(kBinary, {"check-config", entry.path().string()}, {}, "");
    EXPECT_EQ(result.exit_code, 0) << entry.path() << "\n" << result.out << result.err;
    EXPECT_THAT(result.out, HasSubstr(": OK: 1 provider (quay-credential-provider)"));
    EXPECT_EQ(result.err, "");
  }
  EXPECT_GE(configs, 2);
}

TEST(CheckConfigBinary, ExamplesSuitTheirKubeletOnly) {
  const auto v133 = (kExamples / "credential-provider-config-1.33.yaml").string();
  const auto v134 = (kExamples / "credential-provider-config-1.34.yaml").string();
  EXPECT_EQ(
      run_process(kBinary, {"check-config", "--kubelet-version=1.33", v133}, {}, "").exit_code, 0);
  EXPECT_EQ(
      run_process(kBinary, {"check-config", "--kubelet-version=v1.35.1", v134}, {}, "").exit_code,
      0);
  const auto wrong = run_process(kBinary, {"check-config", "--kubelet-version=1.34", v133}, {}, "");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.out, HasSubstr(v133 + ":21: providers[0].tokenAttributes.cacheType: missing"));
}

TEST(CheckConfigBinary, OneLinePerProblemFromStdin) {
  const std::string config = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: quay-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: ["quay.example.com/*"]
    defaultCacheDuration: 5m
    tokenAttributes:
      serviceAccountTokenAudience: quay
      cacheType: ServiceAccount
      requireServiceAccount: true
      requiredServiceAccountAnnotationKeys: [quay.io/federated-robot-account]
)";
  const auto result = run_process(
      kBinary, {"check-config", "--image", "quay.example.com/team/app", "-"}, {}, config);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out,
            "<stdin>:6: providers[0].matchImages[0]: \"quay.example.com/*\" never matches: globs "
            "work in the host only: the path \"/*\" is a literal prefix, so list the registry "
            "host (with its port) instead\n"
            "<stdin>:6: providers[0].matchImages: no entry matches the image "
            "\"quay.example.com/team/app\", so the kubelet never calls this provider for it "
            "(ports must be listed exactly; path globs never match)\n");
  const auto missing = run_process(kBinary, {"check-config", "/nonexistent/config.yaml"}, {}, "");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "quay-credential-provider: cannot read /nonexistent/config.yaml: No such file or "
            "directory\n");
}

// Issue 23: the shipped policy and the config that goes with it, checked together.
TEST(CheckConfigBinary, ThePolicyAndTheConfigAreCheckedTogether) {
  const auto policy = (kExamples / "credential-policy.yaml").string();
  const auto config = (kExamples / "credential-provider-config-policy.yaml").string();
  auto result = run_process(kBinary, {"check-config", "--policy", policy, config}, {}, "");
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr(config + ": OK: 1 provider"));
  EXPECT_THAT(result.out, HasSubstr(policy + ": OK: 4 rules, robot annotation "
                                             "quay.io/federated-robot-account, host annotation "
                                             "quay.io/host\n"));
  // The config names where the node keeps the policy, not this checkout's copy.
  EXPECT_THAT(result.out, HasSubstr("reads the policy "
                                    "/opt/quay-credential-provider/credential-policy.yaml, not " +
                                    policy));

  // The 1.34 example requires the robot annotation: the policy's default robots need it optional.
  const auto required = (kExamples / "credential-provider-config-1.34.yaml").string();
  result = run_process(kBinary, {"check-config", "--policy", policy, required}, {}, "");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("must list quay.io/federated-robot-account (and "
                                    "requiredServiceAccountAnnotationKeys must not)"));
  EXPECT_THAT(result.out, HasSubstr("no --policy"));

  const auto broken = std::filesystem::temp_directory_path() / "qcp-broken-policy.yaml";
  std::ofstream(broken) << "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
                           "rules:\n  - namespaces: [a]\n    robts: [a+b]\n";
  result = run_process(kBinary, {"check-config", "--policy", broken.string(), config}, {}, "");
  std::filesystem::remove(broken);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr(broken.string() + ":5: unknown field \"robts\" in a rule"));
}

class InspectBinary : public ::testing::Test {
 protected:
  TestPki pki_;
  FakeQuay quay_{pki_};  // its issuer signs real RS256 service-account tokens
};

TEST_F(InspectBinary, DecodesARealTokenWithoutPrintingIt) {
  const auto token = quay_.mint_service_account_token("team-a", "puller");
  const auto result =
      run_process(kBinary, {"inspect", "--robot", "team+puller", "-"}, {}, token + "\n");
  // The fake issuer lives on loopback: a warning (Quay must reach it), not a refusal.
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("subject:    system:serviceaccount:team-a:puller\n"));
  EXPECT_THAT(result.out, HasSubstr("signed:     RS256, key id "));
  EXPECT_THAT(result.out, HasSubstr("POST /api/v1/organization/team/robots/puller/federation\n"
                                    "  [{\"issuer\":\"" +
                                    quay_.issuer_url() + "\""));
  EXPECT_THAT(result.out, HasSubstr("warning: the issuer " + quay_.issuer_url() +
                                    " is a loopback or private address"));
  expect_no_leak(result.out + result.err, {token});
  EXPECT_EQ(result.err, "");
}

TEST_F(InspectBinary, ReadsAKubeletRequestAndTakesTheRobotFromIt) {
  const auto token = quay_.mint_service_account_token("team-a", "puller");
  const std::string request =
      R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
      R"("image":"quay.example.com/team/app","serviceAccountToken":")" +
      token + R"(","serviceAccountAnnotations":{"quay.io/federated-robot-account":"org+bot"}})";
  const auto result = run_process(kBinary, {"inspect"}, {}, request);
  EXPECT_THAT(result.out, HasSubstr("/api/v1/organization/org/robots/bot/federation"));
  expect_no_leak(result.out + result.err, {token});
}

TEST_F(InspectBinary, SaysWhichPolicyRuleTheTokenFallsUnder) {
  const auto policy = (kExamples / "credential-policy.yaml").string();
  const auto token = quay_.mint_service_account_token("team-a-dev", "web");
  auto result =
      run_process(kBinary, {"inspect", "--policy", policy, "--robot", "team_a+ci", "-"}, {}, token);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("  rule 2 (" + policy +
                                    ":16) applies to team-a-dev/web\n"
                                    "  robots an annotation may name: team_a+*\n"
                                    "  default robot: team_a+puller (when the service account "
                                    "has no quay.io/federated-robot-account)\n"
                                    "  Quay hosts: quay.example.com, quay.example.com:8443\n"
                                    "  robot team_a+ci: allowed\n"));

  result =
      run_process(kBinary, {"inspect", "--policy", policy, "--robot", "team_b+ci", "-"}, {}, token);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("problem: the robot team_b+ci is not allowed by rule 2"));

  const auto stranger = quay_.mint_service_account_token("elsewhere", "web");
  result = run_process(kBinary, {"inspect", "--policy", policy, "-"}, {}, stranger);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("problem: no rule covers the service account elsewhere/web"));
  expect_no_leak(result.out + result.err, {token, stranger});
}

TEST_F(InspectBinary, RefusesWhatIsNotAToken) {
  const std::string secret_looking = "not-a-jwt-but-secret-ish-text";
  const auto result = run_process(kBinary, {"inspect", "-"}, {}, secret_looking);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("inspect: the input is not a JWT"));
  EXPECT_THAT(result.err, Not(HasSubstr(secret_looking)));
}

}  // namespace
}  // namespace qcp::test

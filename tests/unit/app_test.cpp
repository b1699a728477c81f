#include "qcp/cli/app.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "run_fixture.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace test;  // NOLINT(google-build-using-namespace): the run() fixture

TEST(Run, WritesExactlyOneResponseOnSuccess) {
  const auto outcome = run_with(request(), test::json_response(200, {{"token", kQuayToken}}));
  EXPECT_EQ(outcome.exit_code, 0);
  const auto response = nlohmann::json::parse(outcome.out);
  EXPECT_EQ(response["kind"], "CredentialProviderResponse");
  EXPECT_EQ(response["cacheDuration"], "3300s");
  EXPECT_EQ(response["auth"]["quay.example.com:8443"]["username"], "team+puller");
  EXPECT_EQ(response["auth"]["quay.example.com:8443"]["password"], kQuayToken);
  EXPECT_EQ(std::count(outcome.out.begin(), outcome.out.end(), '\n'), 1);
  expect_no_secret(outcome);
  EXPECT_THAT(outcome.err, HasSubstr("sub=system:serviceaccount:app:puller"));
}

TEST(Run, MarginAndCapFlagsShapeTheCacheDuration) {
  auto outcome = run_with(request(), test::json_response(200, {{"token", kQuayToken}}),
                          {"--cache-margin=10m", "--max-cache-duration=30m"});
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["cacheDuration"], "1800s");
  outcome =
      run_with(request(), test::json_response(200, {{"token", kQuayToken}}), {"--cache-margin=0s"});
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["cacheDuration"], "3600s");
}

TEST(Run, AQuayTokenExpiringIn2200IsCachedForAtMostAnHour) {
  const auto far = make_jwt({{"sub", "team+puller"}, {"exp", 7'258'118'400}});
  const auto outcome = run_with(request(), json_response(200, {{"token", far}}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["cacheDuration"], "3300s");
}

TEST(Run, DefaultLogLevelKeepsSuccessQuietButForOneSummary) {
  const auto outcome = run_with(request(), test::json_response(200, {{"token", kQuayToken}}), {});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1);
  EXPECT_THAT(outcome.err, HasSubstr("credential for robot team+puller on quay.example.com:8443"));
}

struct FailureCase {
  std::string name;
  std::string stdin_text;
  HttpResult answer;
  int exit_code;
  std::string message;
  std::size_t requests;  // 4 where the default 3 retries apply; 2 for Quay's 500
};

class RunFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(RunFailure, PrintsOneLineAndNothingOnStdout) {
  const auto& c = GetParam();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--log-level=trace"}}) {
    std::istringstream in(c.stdin_text);
    std::ostringstream out;
    std::ostringstream err;
    test::FakeHttp http(c.answer);
    const auto env = test::staged_environment();
    const int code = run(args, Streams{in, out, err}, env, http, test::FixedClock{});
    const Outcome outcome{code, out.str(), err.str()};
    EXPECT_EQ(outcome.exit_code, c.exit_code);
    EXPECT_EQ(outcome.out, "");
    EXPECT_THAT(outcome.err, HasSubstr(c.message));
    expect_no_secret(outcome);
    EXPECT_EQ(http.requests.size(), c.requests);
    if (args.empty()) {
      EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;
      EXPECT_TRUE(outcome.err.starts_with("quay-credential-provider: "));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryPath, RunFailure,
    ::testing::Values(
        FailureCase{"EmptyStdin", "", kOk, 3, "stdin is empty", 0},
        FailureCase{"NotJson", "{\"serviceAccountToken\":\"" + kSaToken, kOk, 3, "not valid JSON",
                    false},
        FailureCase{"NoToken", request("quay.io/a/b", ""), kOk, 3, "no serviceAccountToken", 0},
        FailureCase{"TokenNotJwt", request("quay.io/a/b", "opaque-secret-value"), kOk, 3,
                    "not a JWT", 0},
        FailureCase{"NoRobot", request("quay.io/a/b", kSaToken, ""), kOk, 3,
                    "no annotation quay.io/federated-robot-account", 0},
        FailureCase{"BadRobot", request("quay.io/a/b", kSaToken, "Team"), kOk, 3,
                    "not a Quay robot name", 0},
        FailureCase{"BadRegistry", request("bad-.io/a/b"), kOk, 3, "not a valid host[:port]",
                    false},
        FailureCase{"Quay400", request(),
                    test::json_response(400, {{"message", "Token does not match robot"}}), 1,
                    "(HTTP 400): Token does not match robot", 1},
        FailureCase{"Quay401", request(), test::json_response(401, {{"error", "Invalid robot"}}), 1,
                    "(HTTP 401): Invalid robot", 1},
        FailureCase{"Quay500Html", request(),
                    HttpResponse{.status = 500,
                                 .content_type = "text/html",
                                 .body = "<html></html>",
                                 .retry_after = {},
                                 .www_authenticate = {},
                                 .date = {}},
                    1, "(HTTP 500) with an HTML page", 2},
        FailureCase{"NoTokenInAnswer", request(), test::json_response(200, {{"x", 1}}), 1,
                    "without a \"token\"", 1},
        FailureCase{"NonJwtAnswer", request(), test::json_response(200, {{"token", "plain"}}), 1,
                    "not a JWT", 1},
        FailureCase{"ExpiredAnswer", request(),
                    test::json_response(200, {{"token", test::make_jwt({{"exp", test::kNow - 5}},
                                                                       kQuaySignature)}}),
                    1, "within the cache margin", 1},
        FailureCase{"Tls", request(),
                    TransportError{TransportError::Kind::kCertificate, "certificate verify failed"},
                    1, "TLS certificate problem", 1}),
    [](const ::testing::TestParamInfo<FailureCase>& param_info) { return param_info.param.name; });

TEST(Run, NoTokenMessageExplainsTokenAttributes) {
  const auto outcome = run_with(request("quay.io/a/b", ""), kOk, {});
  EXPECT_THAT(outcome.err, HasSubstr("tokenAttributes"));
  EXPECT_THAT(outcome.err, HasSubstr("KubeletServiceAccountTokenForCredentialProviders"));
  EXPECT_THAT(outcome.err, HasSubstr("and on 1.34+ cacheType"));  // a 1.34+ kubelet requires it
}

TEST(Run, UsageErrorsExitTwoBeforeReadingStdin) {
  const auto outcome = run_with(request(), kOk, {"--timeout=soon"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.out, "");
  EXPECT_THAT(outcome.err, HasSubstr("--timeout must be a duration"));
}

TEST(Run, HelpGoesToStdoutAndExitsZero) {
  const auto outcome = run_with("", kOk, {"--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_THAT(outcome.out, HasSubstr("Usage:"));
}

TEST(Run, LogLevelOffStillReportsTheFailure) {
  const auto outcome = run_with(request(), test::json_response(401, {{"error", "Invalid robot"}}),
                                {"--log-level=off"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("Invalid robot"));
}

}  // namespace
}  // namespace qcp

namespace qcp {
namespace {

TEST(Run, AnnotationsCannotWeakenTransportSecurity) {
  nlohmann::json json = nlohmann::json::parse(request());
  json["serviceAccountAnnotations"]["quay.io/insecure-skip-tls-verify"] = "true";
  json["serviceAccountAnnotations"]["quay.io/plain-http"] = "true";
  json["serviceAccountAnnotations"]["quay.io/ca-file"] = "/tmp/evil.pem";
  json["serviceAccountAnnotations"]["quay.io/host-override"] = "evil.example.com";
  std::istringstream in(json.dump());
  std::ostringstream out;
  std::ostringstream err;
  test::FakeHttp http(kOk);
  const auto env =
      test::staged_environment({"/etc/ssl/certs/ca-certificates.crt", "/tmp/evil.pem"});
  ASSERT_EQ(run({}, Streams{in, out, err}, env, http, test::FixedClock{}), 0) << err.str();
  ASSERT_EQ(http.requests.size(), 1U);
  EXPECT_EQ(http.requests[0].url, "https://quay.example.com:8443/oauth2/federation/robot/token");
  EXPECT_EQ(http.requests[0].trust.ca_file, "/etc/ssl/certs/ca-certificates.crt");
}

}  // namespace
}  // namespace qcp

namespace qcp {
namespace {

// As the API server issues them: with iat.
const std::string kIssuedToken = test::make_jwt({{"iss", "https://oidc.example.com"},
                                                 {"sub", "system:serviceaccount:app:puller"},
                                                 {"aud", {"quay"}},
                                                 {"iat", test::kNow - 60},
                                                 {"exp", test::kNow + 3540}},
                                                kSaSignature);

Outcome run_subcommand(std::vector<std::string> args, const std::string& stdin_text = "",
                       std::map<std::string, std::string> files = {}) {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  test::FakeHttp http(kOk);
  auto env = test::staged_environment();
  env.read_file = [files](const std::string& path, std::size_t) {
    const auto found = files.find(path);
    if (found == files.end()) {
      throw Failure(ExitCode::kUsage, "cannot read " + path + ": No such file or directory");
    }
    return found->second;
  };
  const int code = run(args, Streams{in, out, err}, env, http, test::FixedClock{});
  EXPECT_TRUE(http.requests.empty()) << "diagnostics never touch the network";
  return {code, out.str(), err.str()};
}

TEST(Subcommands, InspectReadsStdinAndNeverPrintsTheToken) {
  const auto outcome = run_subcommand({"inspect", "--robot", "team+puller"}, kIssuedToken + "\n");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_THAT(outcome.out, HasSubstr("issuer:     https://oidc.example.com\n"));
  EXPECT_THAT(outcome.out, HasSubstr("/api/v1/organization/team/robots/puller/federation"));
  EXPECT_THAT(outcome.out, HasSubstr("sha256 " + short_hash(kIssuedToken)));
  EXPECT_THAT(outcome.out, Not(HasSubstr(kSaSignature)));
  EXPECT_THAT(outcome.out, Not(HasSubstr(kIssuedToken.substr(kIssuedToken.find('.') + 1, 20))));
  EXPECT_EQ(outcome.err, "");
}

TEST(Subcommands, InspectWarnsAboutTokensInArguments) {
  const auto outcome = run_subcommand({"inspect", kIssuedToken});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_THAT(outcome.err, HasSubstr("visible to other users"));
  EXPECT_THAT(outcome.err, Not(HasSubstr(kSaSignature)));
}

TEST(Subcommands, InspectRefusesBadInputWithoutEchoingIt) {
  for (const std::string& input :
       std::vector<std::string>{"", "abc.def", "{\"kind\":\"CredentialProviderRequest\"}",
                                kSaToken.substr(0, kSaToken.rfind('.'))}) {
    const auto outcome = run_subcommand({"inspect", "-"}, input);
    EXPECT_EQ(outcome.exit_code, 3) << input;
    EXPECT_EQ(outcome.out, "");
    if (!input.empty()) {
      EXPECT_THAT(outcome.err, Not(HasSubstr(input)));
    }
  }
  EXPECT_EQ(run_subcommand({"inspect", "--robot", "Team+Puller"}, kSaToken).exit_code, 2);
  EXPECT_EQ(run_subcommand({"inspect", "--bogus"}).exit_code, 2);
}

TEST(Subcommands, CheckConfigReadsTheNamedFile) {
  const std::string config =
      R"({"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig",)"
      R"("providers":[{"name":"quay-credential-provider","matchImages":["quay.example.com"],)"
      R"("defaultCacheDuration":"5m","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
      R"("tokenAttributes":{"serviceAccountTokenAudience":"quay","cacheType":"ServiceAccount",)"
      R"("requireServiceAccount":true,)"
      R"("requiredServiceAccountAnnotationKeys":["quay.io/federated-robot-account"]}}]})";
  auto outcome = run_subcommand({"check-config", "/etc/kubernetes/cp.json"}, "",
                                {{"/etc/kubernetes/cp.json", config}});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_EQ(outcome.out,
            "/etc/kubernetes/cp.json: OK: 1 provider (quay-credential-provider), for 1.34+ "
            "kubelets\n");
  outcome = run_subcommand({"check-config", "--provider-name", "other", "/c.json"}, "",
                           {{"/c.json", config}});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.out, HasSubstr("/c.json:1: providers: no provider is named \"other\""));
  // Tags and digests are not part of what the kubelet matches.
  outcome = run_subcommand({"check-config", "--image", "quay.example.com/team/app:1.0@sha256:ab",
                            "--image", "quay.example.com:8443/team/app:latest", "/c.json"},
                           "", {{"/c.json", config}});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.out, Not(HasSubstr("\"quay.example.com/team/app")));
  EXPECT_THAT(outcome.out,
              HasSubstr("no entry matches the image \"quay.example.com:8443/team/app\","));
  EXPECT_EQ(run_subcommand({"check-config", "/missing.yaml"}).exit_code, 2);
  EXPECT_EQ(run_subcommand({"check-config"}).exit_code, 2);
  EXPECT_EQ(run_subcommand({"check-config", "--kubelet-version", "1.31", "-"}).exit_code, 2);
  EXPECT_EQ(run_subcommand({"check-config", "--kubelet-version", "latest", "-"}).exit_code, 2);
  outcome = run_subcommand({"check-config", "--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_THAT(outcome.out, HasSubstr("--kubelet-version"));
}

TEST(Subcommands, CheckConfigReadsADirectoryLikeTheKubelet) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  test::FakeHttp http(kOk);
  auto env = test::staged_environment({}, {"/etc/kubernetes/cp.d"});
  env.list_directory = [](const std::string&) {
    return std::vector<std::string>{"20-broken.yml", "README", "10-empty.json", "30-x.yaml.bak"};
  };
  std::vector<std::string> read;
  env.read_file = [&read](const std::string& path, std::size_t) {
    read.push_back(path);
    return std::string(path.ends_with(".json") ? "{}" : "kind: [");
  };
  const std::vector<std::string> args = {"check-config", "/etc/kubernetes/cp.d"};
  const int code = run(args, Streams{in, out, err}, env, http, test::FixedClock{});
  EXPECT_EQ(code, 1);
  // *.json, *.yaml and *.yml only, in lexicographic order.
  EXPECT_EQ(read, (std::vector<std::string>{"/etc/kubernetes/cp.d/10-empty.json",
                                            "/etc/kubernetes/cp.d/20-broken.yml"}));
  EXPECT_THAT(out.str(), HasSubstr("/etc/kubernetes/cp.d/10-empty.json:1: apiVersion: missing"));
  EXPECT_THAT(out.str(), HasSubstr("/etc/kubernetes/cp.d/20-broken.yml:1: YAML syntax error"));

  env.list_directory = [](const std::string&) { return std::vector<std::string>{"README"}; };
  std::ostringstream none;
  EXPECT_EQ(run(args, Streams{in, none, err}, env, http, test::FixedClock{}), 2);
  EXPECT_THAT(err.str(), HasSubstr("no *.json, *.yaml or *.yml file in /etc/kubernetes/cp.d"));
}

TEST(Subcommands, CheckConfigLooksForEveryProvidersBinary) {
  const std::string config = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: quay-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: [quay.example.com]
    defaultCacheDuration: 5m
    tokenAttributes:
      serviceAccountTokenAudience: quay
      cacheType: ServiceAccount
      requireServiceAccount: true
      requiredServiceAccountAnnotationKeys: [quay.io/federated-robot-account]
  - name: ecr-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: ["*.dkr.ecr.*.amazonaws.com"]
    defaultCacheDuration: 12h
)";
  std::istringstream in(config);
  std::ostringstream out;
  std::ostringstream err;
  test::FakeHttp http(kOk);
  auto env = test::staged_environment({"/bin-dir/ecr-credential-provider"}, {"/bin-dir"});
  env.is_executable_file = [](const std::string& path) {
    return path == "/bin-dir/quay-credential-provider";
  };
  const std::vector<std::string> args = {"check-config", "--bin-dir", "/bin-dir", "-"};
  EXPECT_EQ(run(args, Streams{in, out, err}, env, http, test::FixedClock{}), 1);
  EXPECT_EQ(out.str(),
            "<stdin>:13: providers[1].name: /bin-dir/ecr-credential-provider is not executable: "
            "the kubelet refuses to start (permission denied)\n");
  const std::vector<std::string> missing_dir = {"check-config", "--bin-dir", "/nowhere", "-"};
  EXPECT_EQ(run(missing_dir, Streams{in, out, err}, env, http, test::FixedClock{}), 2);
}

TEST(Subcommands, PluginModeStillRefusesStrayWords) {
  // Only a leading word selects a subcommand; the kubelet's args are flags.
  const auto outcome = run_with(request(), kOk, {"--log-level=info", "inspect"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.out, "");
}

}  // namespace
}  // namespace qcp

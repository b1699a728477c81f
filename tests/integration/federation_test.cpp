// The whole lookup over real HTTPS against a fake Quay on loopback, for every answer Quay gives
// (quay-federation.md §3).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.hpp"
#include "layers.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

ServiceAccountTokenSpec token_spec(const std::string& issuer,
                                   const std::string& service_account = "puller") {
  ServiceAccountTokenSpec spec;
  spec.issuer = issuer;
  spec.ns = "app";
  spec.service_account = service_account;
  return spec;
}

class Federation : public ::testing::Test {
 protected:
  Federation() : ca_file_(pki_.write_ca(dir_.path()).string()) {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:app:puller", {"quay"}}});
    sa_token_ = quay_.mint_service_account_token("app", "puller");
  }

  [[nodiscard]] std::string image() const { return quay_.host() + "/team/app"; }

  Outcome lookup(const std::string& token, const std::string& robot = kRobot,
                 std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--ca-file", ca_file_, "--log-level", "trace"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto outcome = run_plugin(
        make_request(image(), token, {{"quay.io/federated-robot-account", robot}}), args);
    std::vector<std::string> secrets = {token};
    for (const auto& request : quay_.requests()) {
      if (request.basic_password) {
        secrets.push_back(*request.basic_password);
      }
    }
    expect_no_leak(outcome.err, secrets);
    if (outcome.exit_code != 0) {
      EXPECT_EQ(outcome.out, "");
    }
    return outcome;
  }

  std::string failure(const std::string& token, const std::string& robot = kRobot) {
    const auto outcome = lookup(token, robot);
    EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
    EXPECT_EQ(outcome.out, "");
    return outcome.err;
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
  std::string sa_token_;
};

TEST_F(Federation, ExchangesTheServiceAccountTokenForARobotToken) {
  const auto outcome = lookup(sa_token_);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;

  ASSERT_EQ(quay_.request_count(), 1U);
  const auto request = quay_.requests().front();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/oauth2/federation/robot/token");
  EXPECT_EQ(request.basic_user, kRobot);
  EXPECT_EQ(request.basic_password, sa_token_);
  EXPECT_THAT(request.header("Authorization").value_or(""), StartsWith("Basic "));
  EXPECT_EQ(request.header("Accept"), "application/json");
  EXPECT_THAT(request.header("User-Agent").value_or(""), StartsWith("quay-credential-provider/"));
  EXPECT_EQ(request.body_bytes, 0U);

  const auto response = nlohmann::json::parse(outcome.out);
  EXPECT_EQ(response.size(), 5U);
  EXPECT_EQ(response["kind"], "CredentialProviderResponse");
  EXPECT_EQ(response["apiVersion"], "credentialprovider.kubelet.k8s.io/v1");
  EXPECT_EQ(response["cacheKeyType"], "Registry");
  const auto& auth = response["auth"][quay_.host()];
  EXPECT_EQ(auth["username"], kRobot);
  const auto password = auth["password"].get<std::string>();
  EXPECT_NE(password, sa_token_);
  const auto claims = decode_jwt_claims(password);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->sub, kRobot);
  // exp - now - 5m, whole seconds; now moves during the test, so allow a few seconds.
  const auto cache = std::stoi(response["cacheDuration"].get<std::string>());
  EXPECT_GE(cache, 3290);
  EXPECT_LE(cache, 3300);
}

TEST_F(Federation, TheReturnedCredentialIsAcceptedByTheRegistry) {
  const auto outcome = lookup(sa_token_);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto auth = nlohmann::json::parse(outcome.out)["auth"][quay_.host()];

  CurlHttpClient http;
  HttpRequest request;
  request.url = quay_.base_url() + "/v2/auth?service=" + quay_.server_hostname() +
                "&scope=repository:team/app:pull";
  request.basic_user = auth["username"];
  request.basic_password = auth["password"];
  request.trust.ca_file = ca_file_;
  const auto result = http.send(request);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(result));
  EXPECT_EQ(std::get<HttpResponse>(result).status, 200);
}

TEST_F(Federation, AnswersInTheRequestsApiVersion) {
  for (const char* version : {"v1beta1", "v1alpha1"}) {
    const auto outcome =
        run_plugin(make_request(image(), sa_token_, {{"quay.io/federated-robot-account", kRobot}},
                                std::string("credentialprovider.kubelet.k8s.io/") + version),
                   {"--ca-file", ca_file_});
    ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_EQ(nlohmann::json::parse(outcome.out)["apiVersion"],
              std::string("credentialprovider.kubelet.k8s.io/") + version);
  }
}

TEST_F(Federation, KeepsThePortInTheExchangeAndTheAuthKey) {
  const auto outcome = lookup(sa_token_);
  ASSERT_EQ(outcome.exit_code, 0);
  const auto response = nlohmann::json::parse(outcome.out);
  ASSERT_EQ(response["auth"].size(), 1U);
  EXPECT_TRUE(response["auth"].contains("127.0.0.1:" + std::to_string(quay_.port())));
}

TEST_F(Federation, UnknownRobot) {
  EXPECT_THAT(failure(sa_token_, "team+nobody"),
              HasSubstr("(HTTP 400): Could not find robot with specified username"));
}

TEST_F(Federation, RobotWithoutFederation) {
  quay_.add_robot("team+plain", {});
  EXPECT_THAT(failure(sa_token_, "team+plain"),
              HasSubstr("(HTTP 400): Robot does not have federated login configured"));
}

TEST_F(Federation, IssuerNotBound) {
  RsaSigner other_issuer;
  quay_.add_issuer("https://oidc.other.example", other_issuer);
  const auto token =
      mint_service_account_token(other_issuer, token_spec("https://oidc.other.example"));
  EXPECT_THAT(
      failure(token),
      HasSubstr("(HTTP 400): issuer https://oidc.other.example not configured for this robot"));
}

TEST_F(Federation, SubjectDoesNotMatch) {
  EXPECT_THAT(failure(quay_.mint_service_account_token("app", "intruder")),
              HasSubstr("(HTTP 400): Token does not match robot - the binding's subject must be"));
}

TEST_F(Federation, ExpiredServiceAccountToken) {
  auto spec = token_spec(quay_.issuer_url());
  spec.lifetime = 60s;
  spec.issued_at = std::chrono::system_clock::now() - 10min;
  const auto token = mint_service_account_token(quay_.issuer_signer(), spec);
  EXPECT_THAT(failure(token), HasSubstr("(HTTP 400): Invalid token: Signature has expired"));
}

TEST_F(Federation, SignatureFromAnotherKey) {
  const RsaSigner impostor(quay_.issuer_signer().kid());
  const auto token = mint_service_account_token(impostor, token_spec(quay_.issuer_url()));
  EXPECT_THAT(failure(token),
              HasSubstr("(HTTP 400): Invalid token: Signature verification failed"));
}

TEST_F(Federation, TokenWithoutKid) {
  const auto token = quay_.issuer_signer().sign(
      {{"kid", nullptr}}, service_account_claims(token_spec(quay_.issuer_url())));
  EXPECT_THAT(failure(token), HasSubstr("(HTTP 400): Invalid token: Missing `kid` header"));
}

TEST_F(Federation, Quay401Messages) {
  for (const char* error :
       {"No auth header", "Invalid basic auth header", "Could not parse basic auth header",
        "Unexpected number of credentials found in basic auth header", "Invalid robot"}) {
    quay_.push_reply(Reply::json(401, {{"error", error}}));
    EXPECT_THAT(failure(sa_token_), HasSubstr(std::string("(HTTP 401): ") + error)) << error;
  }
}

TEST_F(Federation, Quay500WithHtml) {
  // Quay's 500 is mostly permanent (and costs it a discovery and JWKS fetch): retried once.
  quay_.script(std::vector<Reply>(
      4, Reply::html(500, "<!DOCTYPE html><html><title>500 Internal Server Error</title></html>")));
  const auto message = failure(sa_token_);
  EXPECT_THAT(message, HasSubstr("(HTTP 500) with an HTML page, not Quay's JSON"));
  EXPECT_THAT(message, HasSubstr("(after 2 attempts)"));
  EXPECT_EQ(quay_.request_count(), 2U);
}

TEST_F(Federation, MethodNotAllowedHtml) {
  quay_.push_reply(Reply::html(405, "<html><title>405 Method Not Allowed</title></html>"));
  EXPECT_THAT(failure(sa_token_), HasSubstr("needs Quay 3.13 or later"));
}

TEST_F(Federation, SuccessWithoutJsonOrToken) {
  quay_.push_reply(Reply::html(200, "<html>Sign in</html>"));
  EXPECT_THAT(failure(sa_token_), HasSubstr("answered HTTP 200 with an HTML page"));
  quay_.push_reply(Reply::json(200, {{"access_token", "x"}}));
  EXPECT_THAT(failure(sa_token_), HasSubstr("without a \"token\""));
  quay_.push_reply(Reply::json(200, {{"token", "static-robot-token-not-a-jwt"}}));
  EXPECT_THAT(failure(sa_token_), HasSubstr("not a JWT"));
}

TEST_F(Federation, QuayMessageQuotingTheTokenIsScrubbed) {
  quay_.push_reply(Reply::json(400, {{"message", "Invalid token: " + sa_token_}}));
  EXPECT_THAT(failure(sa_token_), HasSubstr("Invalid token: [redacted]"));
}

TEST(FederationTls, UntrustedCertificateIsRefusedBeforeAnyRequest) {
  TempDir dir;
  TestPki server_pki;
  TestPki unrelated;
  const auto ca_file = unrelated.write_ca(dir.path()).string();
  FakeQuay quay(server_pki);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  const auto token = quay.mint_service_account_token("app", "puller");
  const auto outcome = run_plugin(
      make_request(quay.host() + "/team/app", token, {{"quay.io/federated-robot-account", kRobot}}),
      {"--ca-file", ca_file, "--log-level=trace"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_THAT(outcome.err, HasSubstr("TLS certificate problem with Quay at " + quay.host() +
                                     " (trusted CAs from --ca-file " + ca_file + ")"));
  EXPECT_EQ(quay.request_count(), 0U);
  EXPECT_EQ(quay.handshakes_completed(), 0U);
  expect_no_leak(outcome.err, {token});
}

TEST(FederationTls, CertificateForAnotherNameIsRefused) {
  TempDir dir;
  TestPkiOptions pki_options;
  pki_options.extra_dns_names = {"elsewhere.test"};
  pki_options.default_sans = false;
  TestPki pki(pki_options);
  const auto ca_file = pki.write_ca(dir.path()).string();
  FakeQuay quay(pki);
  const auto token = quay.mint_service_account_token("app", "puller");
  const auto outcome = run_plugin(
      make_request(quay.host() + "/team/app", token, {{"quay.io/federated-robot-account", kRobot}}),
      {"--ca-file", ca_file});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("TLS certificate problem"));
  EXPECT_EQ(quay.request_count(), 0U);
}

TEST(FederationTls, SslCertFileIsHonoured) {
  TempDir dir;
  TestPki pki;
  const auto ca_file = pki.write_ca(dir.path()).string();
  FakeQuay quay(pki);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  auto env = clean_environment();
  env.variables["SSL_CERT_FILE"] = ca_file;
  const auto outcome = run_plugin(
      make_request(quay.host() + "/team/app", quay.mint_service_account_token("app", "puller"),
                   {{"quay.io/federated-robot-account", kRobot}}),
      {}, env);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
}

TEST(FederationIpv6, WorksOverIpv6LoopbackWithBracketedHost) {
  TempDir dir;
  TestPki pki;
  const auto ca_file = pki.write_ca(dir.path()).string();
  std::unique_ptr<FakeQuay> quay;
  try {
    FakeQuayOptions options;
    options.ipv6 = true;
    quay = std::make_unique<FakeQuay>(pki, options);
  } catch (const std::exception& error) {
    GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
  }
  quay->add_robot(kRobot, {{quay->issuer_url(), "system:serviceaccount:app:puller", {}}});
  const auto outcome = run_plugin(
      make_request(quay->host() + "/team/app", quay->mint_service_account_token("app", "puller"),
                   {{"quay.io/federated-robot-account", kRobot}}),
      {"--ca-file", ca_file});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(
      nlohmann::json::parse(outcome.out)["auth"].contains("[::1]:" + std::to_string(quay->port())));
}

TEST(FederationHost, AllowedQuayHostAnnotationRedirectsTheExchangeOnly) {
  TempDir dir;
  TestPki pki;
  const auto ca_file = pki.write_ca(dir.path()).string();
  FakeQuay quay(pki);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  const auto token = quay.mint_service_account_token("app", "puller");
  const auto request =
      make_request("mirror.example.com/team/app", token,
                   {{"quay.io/federated-robot-account", kRobot}, {"quay.io/host", quay.host()}});

  const auto refused = run_plugin(request, {"--ca-file", ca_file});
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_THAT(refused.err, HasSubstr("--allowed-host=" + quay.host()));
  EXPECT_EQ(quay.request_count(), 0U);

  const auto allowed = run_plugin(request, {"--ca-file", ca_file, "--allowed-host", quay.host()});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_TRUE(nlohmann::json::parse(allowed.out)["auth"].contains("mirror.example.com"));
  EXPECT_EQ(quay.request_count(), 1U);
}

}  // namespace
}  // namespace qcp::test

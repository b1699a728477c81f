#include "qcp/quay/exchange.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::exchange_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSaToken = test::make_jwt({{"iss", "https://oidc.example.com"},
                                             {"sub", "system:serviceaccount:app:puller"},
                                             {"exp", test::kNow + 3600}},
                                            "U0EtdG9rZW4tc2lnbmF0dXJlLXNlY3JldA");

const Identity kIdentity{.robot = "team+puller",
                         .registry = "quay.example.com:8443",
                         .quay_host = "quay.example.com:8443"};

ExchangeSettings settings() {
  ExchangeSettings settings;
  settings.trust =
      TrustStore{.ca_file = "/ca.pem", .ca_dir = {}, .ca_pem = {}, .source = "--ca-file /ca.pem"};
  settings.connect_timeout = 2s;
  settings.attempt_timeout = 9s;
  settings.total_timeout = 9s;
  settings.retries = 0;
  settings.user_agent = "quay-credential-provider/test";
  return settings;
}

std::string failure_for(HttpResult result) {
  test::FakeHttp http(std::move(result));
  try {
    static_cast<void>(exchange_token(http, kIdentity, kSaToken, settings(), test::FixedClock{}));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kLookupFailed);
    const std::string message = failure.what();
    EXPECT_THAT(message, Not(HasSubstr("U0EtdG9rZW4tc2lnbmF0dXJlLXNlY3JldA")));
    EXPECT_EQ(message.find('\n'), std::string::npos);
    return message;
  }
  ADD_FAILURE() << "no failure";
  return {};
}

TEST(Exchange, SendsBasicRobotAndTokenToTheFederationEndpoint) {
  const auto quay_token = test::make_jwt({{"sub", "team+puller"}, {"exp", test::kNow + 3600}});
  test::FakeHttp http(test::json_response(200, {{"token", quay_token}}));
  const auto token = exchange_token(http, kIdentity, kSaToken, settings(), test::FixedClock{});

  ASSERT_EQ(http.requests.size(), 1U);
  const auto& request = http.requests.front();
  EXPECT_EQ(request.url, "https://quay.example.com:8443/oauth2/federation/robot/token");
  EXPECT_EQ(request.basic_user, "team+puller");
  EXPECT_EQ(request.basic_password, kSaToken);
  EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "Accept", "application/json")));
  EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "User-Agent", "quay-credential-provider/test")));
  EXPECT_EQ(request.trust.ca_file, "/ca.pem");
  EXPECT_EQ(request.total_timeout, 9s);
  EXPECT_EQ(request.connect_timeout, 2s);

  EXPECT_EQ(token.value, quay_token);
  EXPECT_EQ(token.expires_at,
            std::chrono::system_clock::time_point(std::chrono::seconds(test::kNow + 3600)));
  EXPECT_FALSE(token.expiry_assumed);
}

TEST(Exchange, GoesToTheAllowedQuayHostNotTheRegistry) {
  test::FakeHttp http(
      test::json_response(200, {{"token", test::make_jwt({{"exp", test::kNow + 3600}})}}));
  Identity identity = kIdentity;
  identity.quay_host = "[::1]:9443";
  static_cast<void>(exchange_token(http, identity, kSaToken, settings(), test::FixedClock{}));
  EXPECT_EQ(http.requests.front().url, "https://[::1]:9443/oauth2/federation/robot/token");
}

TEST(Exchange, TokenWithoutExpAssumesQuaysOneHourFromIat) {
  test::FakeHttp http(
      test::json_response(200, {{"token", test::make_jwt({{"iat", test::kNow - 60}})}}));
  const auto token = exchange_token(http, kIdentity, kSaToken, settings(), test::FixedClock{});
  EXPECT_TRUE(token.expiry_assumed);
  EXPECT_EQ(token.expires_at,
            std::chrono::system_clock::time_point(std::chrono::seconds(test::kNow - 60 + 3600)));
}

TEST(Exchange, PassesOnQuaysOwnMessagesWithAHint) {
  EXPECT_THAT(failure_for(test::json_response(
                  400, {{"message", "Could not find robot with specified username"}})),
              HasSubstr("Quay at quay.example.com:8443 refused robot \"team+puller\" (HTTP 400): "
                        "Could not find robot with specified username - create the robot"));
  EXPECT_THAT(
      failure_for(test::json_response(
          400, {{"message", "issuer https://oidc.example.com not configured for this robot"}})),
      HasSubstr("issuer https://oidc.example.com not configured for this robot - the robot's "
                "federation binding must name"));
  EXPECT_THAT(failure_for(test::json_response(400, {{"message", "Token does not match robot"}})),
              HasSubstr("system:serviceaccount:<namespace>:<service account>"));
  EXPECT_THAT(failure_for(test::json_response(
                  400, {{"message", "Robot does not have federated login configured"}})),
              HasSubstr("add a federation binding"));
  EXPECT_THAT(
      failure_for(test::json_response(400, {{"message", "Invalid token: Signature has expired"}})),
      HasSubstr("clocks"));
  EXPECT_THAT(failure_for(test::json_response(
                  400, {{"message", "Invalid token: Signature verification failed"}})),
              HasSubstr("JWKS must be reachable"));
  // Quay 3.18's words, checked before the subject, only for bindings with audiences.
  EXPECT_THAT(
      failure_for(test::json_response(400, {{"message", "Invalid token: Audience doesn't match"}})),
      HasSubstr("Audience doesn't match - the token's audience is "
                "tokenAttributes.serviceAccountTokenAudience"));
  for (const char* message :
       {"Invalid token: Issuer 'https://oidc.example.com' not in configured issuers: "
        "['https://oidc.example.com/']",
        "Invalid token: Invalid issuer"}) {
    EXPECT_THAT(failure_for(test::json_response(400, {{"message", message}})),
                HasSubstr("discovery document (<iss>/.well-known/openid-configuration) names "
                          "another issuer"))
        << message;
  }
  EXPECT_THAT(
      failure_for(test::json_response(
          400, {{"message", "Invalid token: Issued At claim (iat) cannot be in the future."}})),
      HasSubstr("compare the clocks of the API server, this node and Quay"));
  EXPECT_THAT(failure_for(test::json_response(
                  400, {{"message", "Invalid token: The specified alg value is not allowed"}})),
              HasSubstr("RS256 and RS384 only"));
  EXPECT_THAT(
      failure_for(test::json_response(400, {{"message", "Invalid token: Missing `kid` header"}})),
      HasSubstr("names no signing key (kid)"));
  for (const char* claim : {"exp", "aud"}) {
    const auto message = failure_for(test::json_response(
        400,
        {{"message", "Invalid token: Token is missing the \"" + std::string(claim) + "\" claim"}}));
    EXPECT_THAT(message, HasSubstr("Quay verified the token with its issuer's keys"));
    EXPECT_THAT(message, Not(HasSubstr("must be reachable"))) << "the keys were reachable";
  }
  EXPECT_THAT(failure_for(test::json_response(500, {{"message", "x"}})),
              HasSubstr("the token's kid is not in that JWKS (a token from another cluster, or a "
                        "rotated key), or the key is not RSA (e.g. ES256)"));
  EXPECT_THAT(failure_for(test::json_response(401, {{"error", "Invalid robot"}})),
              HasSubstr("(HTTP 401): Invalid robot - Quay could not read the robot credentials"));
}

TEST(Exchange, ScrubsQuayMessagesThatQuoteTheToken) {
  const auto message = failure_for(
      test::json_response(400, {{"message", "Invalid token: " + kSaToken + "\nsecond line"}}));
  EXPECT_THAT(message, Not(HasSubstr("eyJ")));
  EXPECT_THAT(message, HasSubstr("[redacted]"));
}

TEST(Exchange, DescribesAnswersWithoutQuaysJson) {
  HttpResponse html{.status = 500,
                    .content_type = "text/html",
                    .body = "<html><body>Internal</body></html>",
                    .retry_after = std::nullopt,
                    .www_authenticate = std::nullopt,
                    .date = std::nullopt};
  EXPECT_THAT(failure_for(html),
              HasSubstr("(HTTP 500) with an HTML page, not Quay's JSON - Quay failed "
                        "while verifying the token"));
  html.status = 405;
  EXPECT_THAT(failure_for(html), HasSubstr("needs Quay 3.13 or later"));
  EXPECT_THAT(failure_for(HttpResponse{.status = 404,
                                       .content_type = "",
                                       .body = "",
                                       .retry_after = {},
                                       .www_authenticate = {},
                                       .date = {}}),
              HasSubstr("(HTTP 404) with an empty body"));
  EXPECT_THAT(failure_for(HttpResponse{.status = 302,
                                       .content_type = "",
                                       .body = "",
                                       .retry_after = {},
                                       .www_authenticate = {},
                                       .date = {}}),
              HasSubstr("redirects are not followed"));
}

TEST(Exchange, RejectsSuccessfulAnswersWithoutAUsableToken) {
  EXPECT_THAT(failure_for(HttpResponse{.status = 200,
                                       .content_type = "text/html",
                                       .body = "<html>login</html>",
                                       .retry_after = {},
                                       .www_authenticate = {},
                                       .date = {}}),
              HasSubstr("answered HTTP 200 with an HTML page"));
  EXPECT_THAT(failure_for(test::json_response(200, {{"access_token", "x"}})),
              HasSubstr("without a \"token\""));
  EXPECT_THAT(failure_for(test::json_response(200, {{"token", ""}})),
              HasSubstr("without a \"token\""));
  EXPECT_THAT(failure_for(test::json_response(200, {{"token", 42}})),
              HasSubstr("without a \"token\""));
  EXPECT_THAT(failure_for(test::json_response(200, nlohmann::json::array())),
              HasSubstr("not an object"));
  EXPECT_THAT(failure_for(test::json_response(200, {{"token", "static-robot-token"}})),
              HasSubstr("not a JWT"));
}

TEST(Exchange, TransportFailuresSayWhatAndWhere) {
  EXPECT_THAT(failure_for(TransportError{
                  TransportError::Kind::kCertificate,
                  "SSL certificate problem: unable to get local issuer certificate"}),
              HasSubstr("TLS certificate problem with Quay at quay.example.com:8443 (trusted CAs "
                        "from --ca-file /ca.pem)"));
  EXPECT_THAT(failure_for(TransportError{TransportError::Kind::kTimeout, "Operation timed out"}),
              HasSubstr("did not answer within --attempt-timeout 9s"));
  EXPECT_THAT(failure_for(TransportError{TransportError::Kind::kTimeout, "x"}),
              HasSubstr("Quay may itself be waiting on the issuer's discovery document or JWKS"));
  EXPECT_THAT(failure_for(TransportError{TransportError::Kind::kResolve, "Could not resolve host"}),
              HasSubstr("cannot resolve Quay at quay.example.com:8443"));
  EXPECT_THAT(failure_for(TransportError{TransportError::Kind::kConnect, "Connection refused"}),
              HasSubstr("cannot connect to Quay"));
  EXPECT_THAT(failure_for(TransportError{TransportError::Kind::kTooLarge,
                                         "the answer is larger than 1048576 bytes"}),
              HasSubstr("oversized answer"));
}

}  // namespace
}  // namespace qcp::exchange_test

// Whether a robot may pull, asked as a registry client asks (quay-federation.md §8): the
// challenge from GET /v2/, the token endpoint only on the registry's own host, the grant read
// from the registry's token, the registry's own words on a refusal, and both requests inside
// the one deadline the caller's exchange ran under.
#include "qcp/quay/pull_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"

namespace qcp::pull_check_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRegistry = "quay.example.com";
constexpr const char* kRealm = "https://quay.example.com/v2/auth";
const std::string kRobotToken = "robot-token-0123456789abcdefghij";

RobotCredential credential() {
  RobotCredential credential;
  credential.registry = kRegistry;
  credential.robot = "team+puller";
  credential.token = kRobotToken;
  return credential;
}

ExchangeSettings settings() {
  ExchangeSettings settings;
  settings.connect_timeout = 5s;
  settings.attempt_timeout = 10s;
  settings.total_timeout = 20s;
  settings.user_agent = "quay-credential-provider/test";
  return settings;
}

HttpResponse challenge(const std::string& realm = kRealm) {
  HttpResponse response = test::json_response(401, {{"errors", nlohmann::json::array()}});
  response.www_authenticate = "Bearer realm=\"" + realm + "\",service=\"quay.example.com\"";
  return response;
}

// The registry's bearer token for `actions` on `repository` (distribution's access claim).
HttpResponse granted(const std::string& repository, const nlohmann::json& actions) {
  const auto token = test::make_jwt(
      {{"access", {{{"type", "repository"}, {"name", repository}, {"actions", actions}}}}});
  return test::json_response(200, {{"token", token}});
}

TEST(PullCheck, AsksTheRealmForPullOnTheRepositoryWithTheRobotAndReadsTheGrant) {
  test::FakeHttp http({challenge(), granted("team/app", {"pull"})});
  const test::FixedClock clock;
  const auto check = check_pull(http, credential(), "team/app", settings(), clock);
  EXPECT_TRUE(check.granted) << check.problem;
  ASSERT_EQ(http.requests.size(), 2U);
  EXPECT_EQ(http.requests[0].url, "https://quay.example.com/v2/");
  EXPECT_EQ(http.requests[0].basic_password, "");  // the challenge is asked for anonymously
  EXPECT_EQ(http.requests[1].url,
            std::string(kRealm) + "?service=quay.example.com&scope=repository%3Ateam%2Fapp%3Apull");
  EXPECT_EQ(http.requests[1].basic_user, "team+puller");
  EXPECT_EQ(http.requests[1].basic_password, kRobotToken);
}

TEST(PullCheck, AGrantWithoutPullOrForAnotherRepositoryIsNoGrant) {
  for (const auto& answer : {granted("team/app", nlohmann::json::array()),
                             granted("team/other", {"pull"}), granted("team/app", {"push"})}) {
    test::FakeHttp http({challenge(), answer});
    const test::FixedClock clock;
    const auto check = check_pull(http, credential(), "team/app", settings(), clock);
    EXPECT_FALSE(check.granted);
    EXPECT_THAT(check.problem, HasSubstr("robot team+puller cannot pull team/app"));
  }
}

TEST(PullCheck, ATokenEndpointOffTheRegistrysHostNeverSeesTheRobotToken) {
  for (const char* realm : {"https://evil.example.net/v2/auth", "http://quay.example.com/v2/auth",
                            "https://quay.example.com.evil.example.net/v2/auth"}) {
    test::FakeHttp http({challenge(realm), granted("team/app", {"pull"})});
    const test::FixedClock clock;
    const auto check = check_pull(http, credential(), "team/app", settings(), clock);
    EXPECT_FALSE(check.granted) << realm;
    EXPECT_EQ(http.requests.size(), 1U) << realm;
    EXPECT_THAT(check.problem, HasSubstr("the robot token is not sent there"));
  }
}

TEST(PullCheck, ARegistryThatAsksForNoBearerTokenIsNotQuay) {
  test::FakeHttp http(test::json_response(200, nlohmann::json::object()));
  const test::FixedClock clock;
  const auto check = check_pull(http, credential(), "team/app", settings(), clock);
  EXPECT_FALSE(check.granted);
  EXPECT_THAT(check.problem, HasSubstr("asked for no bearer token at /v2/ (HTTP 200)"));
}

TEST(PullCheck, ARefusalCarriesTheRegistrysOwnWordsAndNeverTheToken) {
  const auto refusal = test::json_response(
      403, {{"errors", {{{"code", "DENIED"}, {"message", "no access for " + kRobotToken}}}}});
  test::FakeHttp http({challenge(), refusal});
  const test::FixedClock clock;
  const auto check = check_pull(http, credential(), "team/app", settings(), clock);
  EXPECT_FALSE(check.granted);
  EXPECT_THAT(check.problem, HasSubstr("the registry refused robot team+puller for team/app "
                                       "(HTTP 403: no access for "));
  EXPECT_THAT(check.problem, Not(HasSubstr(kRobotToken)));
}

TEST(PullCheck, ATransportFailureIsAProblemWithoutTheToken) {
  const HttpResult reset =
      TransportError{TransportError::Kind::kProtocol, "reset while sending " + kRobotToken};
  test::FakeHttp http({challenge(), reset});
  const test::FixedClock clock;
  const auto check = check_pull(http, credential(), "team/app", settings(), clock);
  EXPECT_FALSE(check.granted);
  EXPECT_THAT(check.problem, HasSubstr("cannot reach " + std::string(kRealm)));
  EXPECT_THAT(check.problem, Not(HasSubstr(kRobotToken)));
}

// The walk's deadline: the exchange spent most of it, so the registry gets what is left. Each
// request costs `cost` of the 3 s left.
PullCheck check_within_3s(test::FakeHttp& http, const test::FixedClock& clock) {
  auto bounded = settings();
  bounded.deadline = clock.monotonic() + 3s;
  return check_pull(http, credential(), "team/app", bounded, clock);
}

TEST(PullCheck, EachRequestGetsAtMostWhatIsLeftOfTheCallersDeadline) {
  const test::FixedClock clock;
  test::FakeHttp http({challenge(), granted("team/app", {"pull"})}, &clock, 2s);
  const auto check = check_within_3s(http, clock);
  EXPECT_TRUE(check.granted) << check.problem;
  ASSERT_EQ(http.requests.size(), 2U);
  EXPECT_EQ(http.requests[0].total_timeout, 3s);
  EXPECT_EQ(http.requests[1].total_timeout, 1s);
  EXPECT_EQ(http.requests[1].connect_timeout, 1s);
}

TEST(PullCheck, NothingIsSentOnceTheDeadlineHasPassed) {
  const test::FixedClock clock;
  test::FakeHttp http({challenge(), granted("team/app", {"pull"})}, &clock, 3s);
  const auto check = check_within_3s(http, clock);
  EXPECT_FALSE(check.granted);
  EXPECT_EQ(http.requests.size(), 1U);  // the challenge used it all: no robot token goes out
  EXPECT_EQ(check.problem,
            "no time left within the --timeout deadline to ask " + std::string(kRealm));

  test::FakeHttp late(challenge());
  auto spent = settings();
  spent.deadline = clock.monotonic();
  EXPECT_THAT(check_pull(late, credential(), "team/app", spent, clock).problem,
              HasSubstr("deadline to ask https://quay.example.com/v2/"));
  EXPECT_TRUE(late.requests.empty());
}

TEST(PullCheck, TheRepositoryOfAnImageIsItsPathWithoutRegistryTagOrDigest) {
  EXPECT_EQ(repository_of_image("quay.example.com/team/app:v1"), "team/app");
  EXPECT_EQ(repository_of_image("quay.example.com:8443/team/app"), "team/app");
  EXPECT_EQ(
      repository_of_image("quay.example.com:8443/team/sub/app:v1@sha256:" + std::string(64, 'a')),
      "team/sub/app");
  // No registry before a first '/': Docker Hub's, as the kubelet reads it (the verifier then
  // finds it is not on the robot's registry).
  EXPECT_EQ(repository_of_image("nginx:1.27"), "nginx");
  EXPECT_EQ(repository_of_image("quay.example.com/"), "");
}

}  // namespace
}  // namespace qcp::pull_check_test

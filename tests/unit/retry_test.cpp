#include "qcp/core/retry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/exchange.hpp"

namespace qcp::retry_test {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSaToken = test::make_jwt({{"iss", "https://oidc.example.com"}, {"sub", "s"}});
const std::string kQuayToken = test::make_jwt({{"exp", test::kNow + 3600}});
const Identity kIdentity{.robot = "team+puller", .registry = "quay.io", .quay_host = "quay.io"};

ExchangeSettings settings(int retries = 3) {
  ExchangeSettings settings;
  settings.trust =
      TrustStore{.ca_file = "/ca.pem", .ca_dir = {}, .ca_pem = {}, .source = "--ca-file /ca.pem"};
  settings.connect_timeout = 5s;
  settings.attempt_timeout = 10s;
  settings.total_timeout = 20s;
  settings.retries = retries;
  settings.backoff_base = 250ms;
  settings.backoff_cap = 4s;
  settings.uniform = [] { return 0.5; };
  return settings;
}

HttpResult status(long code, std::optional<std::string> retry_after = std::nullopt) {
  HttpResponse response = test::json_response(code, {{"message", "busy"}});
  response.retry_after = std::move(retry_after);
  return response;
}
const HttpResult kOk = test::json_response(200, {{"token", kQuayToken}});
const HttpResult kReset =
    TransportError{TransportError::Kind::kProtocol, "Connection reset by peer"};

std::string failure(test::FakeHttp& http, const test::FixedClock& clock,
                    const ExchangeSettings& s) {
  try {
    static_cast<void>(exchange_token(http, kIdentity, kSaToken, s, clock));
  } catch (const Failure& f) {
    return f.what();
  }
  ADD_FAILURE() << "succeeded";
  return {};
}

TEST(Backoff, IsFullJitterUnderAnExponentialCeiling) {
  const auto half = [] { return 0.5; };
  EXPECT_EQ(backoff_delay(1, 250ms, 4s, half), 125ms);
  EXPECT_EQ(backoff_delay(2, 250ms, 4s, half), 250ms);
  EXPECT_EQ(backoff_delay(3, 250ms, 4s, half), 500ms);
  EXPECT_EQ(backoff_delay(10, 250ms, 4s, half), 2s);  // capped
  EXPECT_EQ(backoff_delay(60, 250ms, 4s, [] { return 0.999; }), 3996ms);
  EXPECT_EQ(backoff_delay(3, 250ms, 4s, [] { return 0.0; }), 0ms);
}

TEST(RetryAfter, ReadsSecondsAndHttpDates) {
  const std::chrono::system_clock::time_point now{
      std::chrono::seconds(784111777)};  // 1994-11-06T08:49:37Z
  EXPECT_EQ(parse_retry_after("1", now), 1s);
  EXPECT_EQ(parse_retry_after(" 120 ", now), 120s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);  // past: now
  EXPECT_EQ(parse_retry_after("Thu, 01 Mar 2029 00:00:00 GMT",
                              std::chrono::system_clock::time_point{std::chrono::seconds(
                                  1867017600 - 86400)}),  // 2029-02-28T00:00:00Z
            86400s);
  for (const char* bad : {"", "-1", "1.5", "soon", "Sun, 06 Nov 1994", "9999999999",
                          "Sun, 06 Nov 1994 08:49:47 UTC", "Sun, 6 Nov 1994 08:49:47 GMT",
                          "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 31 Feb 1994 08:49:47 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Xyz, 06 Nov 1994 08:49:47 GMT", "Sun, 06 Foo 1994 08:49:47 GMT"}) {
    EXPECT_FALSE(parse_retry_after(bad, now)) << bad;
  }
}

TEST(RetryAfter, DatesBeyond2262AreCappedNotOverflowed) {
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds(test::kNow)};
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), 24h);
  EXPECT_EQ(parse_retry_after("Sat, 01 Jan 2500 00:00:00 GMT", now), 24h);
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now), 0ms);
}

// Quay's 500 is mostly permanent and makes it fetch the issuer's discovery and JWKS again.
TEST(Retries, AQuay500IsRetriedOnceGatewayErrorsWithBackoff) {
  const test::FixedClock clock;
  test::FakeHttp always_500(std::vector<HttpResult>{status(500)});
  EXPECT_THAT(failure(always_500, clock, settings(10)), HasSubstr("(after 2 attempts)"));
  EXPECT_EQ(always_500.requests.size(), 2U);
  test::FakeHttp once(std::vector<HttpResult>{status(500), kOk});
  static_cast<void>(exchange_token(once, kIdentity, kSaToken, settings(3), clock));
  EXPECT_EQ(once.requests.size(), 2U);
  for (const long gateway : {502L, 503L, 504L, 429L}) {
    test::FakeHttp http(std::vector<HttpResult>{status(gateway)});
    EXPECT_THAT(failure(http, clock, settings(3)), HasSubstr("(after 4 attempts)")) << gateway;
  }
  // A 500 after gateway errors still gets its one retry, and no more.
  test::FakeHttp mixed(std::vector<HttpResult>{status(503), status(500), status(500), kOk});
  EXPECT_THAT(failure(mixed, clock, settings(5)), HasSubstr("(after 3 attempts)"));
}

TEST(Retries, ServerErrorsThenSuccess) {
  const test::FixedClock clock;
  test::FakeHttp http(std::vector<HttpResult>{status(500), status(503), status(502), kOk});
  const auto token = exchange_token(http, kIdentity, kSaToken, settings(), clock);
  EXPECT_EQ(token.value, kQuayToken);
  EXPECT_EQ(http.requests.size(), 4U);
  EXPECT_THAT(clock.sleeps, ElementsAre(125ms, 250ms, 500ms));
}

TEST(Retries, ConnectionResetThenSuccess) {
  const test::FixedClock clock;
  test::FakeHttp http(std::vector<HttpResult>{kReset, kOk});
  EXPECT_EQ(exchange_token(http, kIdentity, kSaToken, settings(), clock).value, kQuayToken);
  EXPECT_EQ(http.requests.size(), 2U);
}

TEST(Retries, TooManyRequestsWaitsAsAsked) {
  const test::FixedClock clock;
  test::FakeHttp http(std::vector<HttpResult>{status(429, "1"), kOk});
  EXPECT_EQ(exchange_token(http, kIdentity, kSaToken, settings(), clock).value, kQuayToken);
  EXPECT_THAT(clock.sleeps, ElementsAre(1000ms));
}

TEST(Retries, RetryAfterBeyondTheDeadlineFailsSayingWhy) {
  const test::FixedClock clock;
  test::FakeHttp http(std::vector<HttpResult>{status(503, "120"), kOk});
  EXPECT_THAT(failure(http, clock, settings()),
              HasSubstr("Quay asked to retry after 2m0s, beyond the --timeout deadline"));
  EXPECT_EQ(http.requests.size(), 1U);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(Retries, ClientErrorsAreFinal) {
  for (long code : {400L, 401L, 403L, 404L, 405L}) {
    const test::FixedClock clock;
    test::FakeHttp http(std::vector<HttpResult>{status(code), kOk});
    static_cast<void>(failure(http, clock, settings()));
    EXPECT_EQ(http.requests.size(), 1U) << code;
  }
}

TEST(Retries, CertificateAndSizeProblemsAreFinal) {
  for (auto kind : {TransportError::Kind::kCertificate, TransportError::Kind::kTooLarge}) {
    const test::FixedClock clock;
    test::FakeHttp http(std::vector<HttpResult>{TransportError{kind, "x"}, kOk});
    static_cast<void>(failure(http, clock, settings()));
    EXPECT_EQ(http.requests.size(), 1U);
  }
}

TEST(Retries, GiveUpAfterTheConfiguredCount) {
  const test::FixedClock clock;
  test::FakeHttp http(std::vector<HttpResult>{status(503)});
  EXPECT_THAT(failure(http, clock, settings(2)), HasSubstr("(HTTP 503)"));
  EXPECT_THAT(failure(http, clock, settings(2)), HasSubstr("(after 3 attempts)"));
  const test::FixedClock clock_zero;
  test::FakeHttp once(std::vector<HttpResult>{status(500)});
  static_cast<void>(failure(once, clock_zero, settings(0)));
  EXPECT_EQ(once.requests.size(), 1U);
}

TEST(Retries, EveryAttemptFitsInsideTheTotalDeadline) {
  const test::FixedClock clock;
  // Each attempt hangs for its whole per-attempt timeout.
  test::FakeHttp http(std::vector<HttpResult>{TransportError{TransportError::Kind::kTimeout,
                                                             "Operation timed out"}},
                      &clock, 8s);
  auto s = settings(10);
  s.attempt_timeout = 8s;
  const auto message = failure(http, clock, s);
  EXPECT_THAT(message, HasSubstr("did not answer within the deadline (--timeout 20s)"));
  // 8s + wait + 8s + wait + the rest: the last attempt is cut to what is left.
  ASSERT_GE(http.requests.size(), 3U);
  EXPECT_EQ(http.requests[0].total_timeout, 8s);
  EXPECT_LT(http.requests.back().total_timeout, 8s);
  EXPECT_LE(http.requests.back().connect_timeout, http.requests.back().total_timeout);
}

// A wait that ends just inside the deadline, and a wake-up that comes late (a busy node, a
// paused process): the next attempt must not start with 0 ms or less, which libcurl would read
// as "no timeout at all".
class LateWakeUp : public ::testing::TestWithParam<std::chrono::microseconds> {};

TEST_P(LateWakeUp, NoAttemptStartsWithoutTimeLeft) {
  test::FixedClock clock;
  clock.late = GetParam();
  // The first attempt costs 500 ms of a 1 s deadline; the backoff then waits 499 ms.
  test::FakeHttp http(std::vector<HttpResult>{status(503)}, &clock, 500ms);
  auto s = settings(3);
  s.total_timeout = 1s;
  s.attempt_timeout = 1s;
  s.backoff_base = 500ms;
  s.backoff_cap = 500ms;
  s.uniform = [] { return 0.999; };
  const auto message = failure(http, clock, s);
  EXPECT_THAT(message, HasSubstr("did not answer within the deadline"));
  EXPECT_THAT(message, HasSubstr("HTTP 503"));
  ASSERT_EQ(clock.sleeps, std::vector<std::chrono::milliseconds>{499ms});
  EXPECT_EQ(http.requests.size(), 1U);
  for (const auto& request : http.requests) {
    EXPECT_GE(request.total_timeout, 1ms);
    EXPECT_GE(request.connect_timeout, 1ms);
  }
}

INSTANTIATE_TEST_SUITE_P(Retries, LateWakeUp,
                         ::testing::Values(std::chrono::microseconds{500},
                                           std::chrono::microseconds{5000}));

TEST(Retries, AnAttemptGetsTheWholeMillisecondsLeftAndNoMore) {
  test::FixedClock clock;
  clock.late = 250us;
  test::FakeHttp http(std::vector<HttpResult>{status(503), kOk}, &clock, 500ms);
  auto s = settings(3);
  s.total_timeout = 1s;
  s.attempt_timeout = 1s;
  s.backoff_base = 400ms;
  s.backoff_cap = 400ms;
  s.uniform = [] { return 0.5; };
  static_cast<void>(exchange_token(http, kIdentity, kSaToken, s, clock));
  ASSERT_EQ(http.requests.size(), 2U);
  // 1000 - 500 - 200 - 0.25 = 299.75 ms left: 299 ms, never rounded up past the deadline.
  EXPECT_EQ(http.requests[1].total_timeout, 299ms);
}

TEST(Retries, ADeadlineSpentBeforeTheExchangeMakesNoRequest) {
  const test::FixedClock clock;
  test::FakeHttp http(kOk);
  auto s = settings();
  s.deadline = clock.monotonic();  // e.g. all of it went on reading stdin
  EXPECT_THAT(failure(http, clock, s), HasSubstr("no time left"));
  EXPECT_TRUE(http.requests.empty());
}

TEST(Retries, ProxySettingsReachTheRequest) {
  const test::FixedClock clock;
  test::FakeHttp http(kOk);
  auto s = settings();
  s.proxy = "http://proxy.internal:3128";
  s.no_proxy = "localhost,.svc";
  static_cast<void>(exchange_token(http, kIdentity, kSaToken, s, clock));
  EXPECT_EQ(http.requests.front().proxy, "http://proxy.internal:3128");
  EXPECT_EQ(http.requests.front().no_proxy, "localhost,.svc");
}

}  // namespace
}  // namespace qcp::retry_test

#include "qcp/kube/response.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "fake_clock.hpp"
#include "layers.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/token_lifetime.hpp"

namespace qcp {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

const system_clock::time_point kNow{std::chrono::seconds(1767222000)};

TEST(CacheDuration, IsRemainingLifetimeLessTheMargin) {
  EXPECT_EQ(cache_duration_for(kNow + 3600s, kNow, 300s, std::nullopt), 3300s);
  EXPECT_EQ(cache_duration_for(kNow + 3600s, kNow, 0s, std::nullopt), 3600s);
}

TEST(CacheDuration, NeverExceedsQuaysOneHourWhateverExpSays) {
  // A token "expiring in 2200" (and beyond system_clock's 2262) is cached as long as any other.
  for (const std::int64_t exp : {std::int64_t{7'258'118'400}, std::int64_t{1'000'000'000'000'000},
                                 std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(cache_duration_for(from_unix_seconds(exp), kNow, 300s, std::nullopt), 3300s) << exp;
  }
  EXPECT_LT(from_unix_seconds(std::numeric_limits<std::int64_t>::min()), kNow);
  EXPECT_GT(from_unix_seconds(std::numeric_limits<std::int64_t>::max()), kNow);
}

TEST(CacheDuration, RoundsDownSubSecondRemainders) {
  EXPECT_EQ(cache_duration_for(kNow + 3600s, kNow + 250ms, 300s, std::nullopt), 3299s);
}

TEST(CacheDuration, IsCappedByTheOperator) {
  EXPECT_EQ(cache_duration_for(kNow + 3600s, kNow, 300s, 600s), 600s);
  EXPECT_EQ(cache_duration_for(kNow + 3600s, kNow, 300s, 0s), 0s);
  EXPECT_EQ(cache_duration_for(kNow + 700s, kNow, 300s, 600s), 400s);
}

TEST(CacheDuration, ExpiredOrNearlyExpiredTokensFail) {
  EXPECT_THROW(static_cast<void>(cache_duration_for(kNow + 300s, kNow, 300s, std::nullopt)),
               Failure);
  EXPECT_THROW(static_cast<void>(cache_duration_for(kNow - 10s, kNow, 300s, std::nullopt)),
               Failure);
  try {
    static_cast<void>(cache_duration_for(kNow + 60s, kNow, 300s, std::nullopt));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kLookupFailed);
    EXPECT_THAT(failure.what(),
                ::testing::HasSubstr("expires in 1m0s, within the cache margin of 5m0s"));
  }
}

TEST(RenderResponse, HasExactlyTheKubeletsFieldsInOrder) {
  const auto text =
      render_response(Credentials{.api_version = "credentialprovider.kubelet.k8s.io/v1",
                                  .auth = {{"quay.example.com:8443", "team+puller", "a.b.c"}},
                                  .cache_duration = 3300s});
  EXPECT_EQ(
      text,
      R"({"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
      R"("cacheKeyType":"Registry","cacheDuration":"3300s","auth":{"quay.example.com:8443":)"
      R"({"username":"team+puller","password":"a.b.c"}}})"
      "\n");
}

TEST(RenderResponse, EchoesTheRequestsApiVersionAndEscapesSafely) {
  const auto text =
      render_response(Credentials{.api_version = "credentialprovider.kubelet.k8s.io/v1beta1",
                                  .auth = {{"[::1]:8443", "team+puller", "quote\"back\\slash"}},
                                  .cache_duration = 1s});
  const auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["apiVersion"], "credentialprovider.kubelet.k8s.io/v1beta1");
  EXPECT_EQ(json["auth"]["[::1]:8443"]["password"], "quote\"back\\slash");
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line, newline-terminated
}

// Issue 20: the plugin and the workload modes timed a Quay token each their own way; both ask
// time_left now. Quay's lifetime counts on the monotonic clock from the request, whatever the
// node's wall clock says; without iat, exp on the wall clock; never more than Quay's hour.
TEST(TokenLifetime, TimeLeftCountsQuaysLifetimeFromTheRequestOnTheMonotonicClock) {
  test::FixedClock clock;
  QuayToken token;
  token.lifetime = 3600s;
  token.requested_at = clock.monotonic();
  token.expires_at = clock.now() + 10h;  // a node clock hours off Quay's
  clock.sleep_for(1500ms);
  clock.step_wall(-2h);
  const auto left = [&] { return time_left(valid_until(token, clock), clock); };
  EXPECT_EQ(left(), 3598s);  // 1.5 s elapsed, rounded up
  EXPECT_EQ(cache_duration_for(valid_until(token, clock), clock, 300s, std::nullopt), 3298s);
  token.lifetime = 7200s;  // a broken lifetime is no licence either
  EXPECT_EQ(left(), 3600s);

  token.lifetime.reset();
  token.expires_at = clock.now() + 600s;
  EXPECT_EQ(left(), 600s);
  token.expires_at = clock.now() + 48h;
  EXPECT_EQ(left(), 3600s);
  token.expires_at = clock.now() - 5s;
  EXPECT_EQ(left(), -5s);
}

// Timed once, when the token arrives: the valid_until a credential carries keeps counting down
// on the monotonic clock, whatever the wall clock does afterwards.
TEST(TokenLifetime, ValidUntilKeepsCountingDownOnTheMonotonicClock) {
  test::FixedClock clock;
  QuayToken token;
  token.lifetime = 3600s;
  token.requested_at = clock.monotonic();
  const auto until = valid_until(token, clock);
  clock.sleep_for(600s);
  clock.step_wall(-1h);
  EXPECT_EQ(time_left(until, clock), 3000s);
  EXPECT_EQ(cache_duration_for(until, clock, 300s, std::nullopt), 2700s);
  clock.sleep_for(3001s);
  EXPECT_EQ(time_left(until, clock), -1s);
  EXPECT_THROW(static_cast<void>(cache_duration_for(until, clock, 0s, std::nullopt)), Failure);
}

}  // namespace
}  // namespace qcp

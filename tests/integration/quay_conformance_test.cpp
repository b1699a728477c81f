// The lookup against a fake Quay that behaves as Quay was observed to (quay-federation.md, rows
// marked "(run)"): its own clock, RS384, EC keys, nbf, iat in the future, stored audiences.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr const char* kSubject = "system:serviceaccount:app:puller";

class QuayConformance : public ::testing::Test {
 protected:
  QuayConformance() : ca_file_(pki_.write_ca(dir_.path()).string()) {}

  // A Quay with these options, the robot bound to its own issuer (with `audiences`).
  FakeQuay& start(FakeQuayOptions options = {}, std::vector<std::string> audiences = {}) {
    quay_ = std::make_unique<FakeQuay>(pki_, std::move(options));
    quay_->add_robot(kRobot, {{quay_->issuer_url(), kSubject, std::move(audiences)}});
    return *quay_;
  }

  // Claims of a service-account token from the fake's issuer, issued on the fake's clock.
  [[nodiscard]] nlohmann::json claims(const std::string& audience = "quay") const {
    ServiceAccountTokenSpec spec;
    spec.issuer = quay_->issuer_url();
    spec.ns = "app";
    spec.service_account = "puller";
    spec.audiences = {audience};
    return service_account_claims(spec);
  }

  Outcome lookup(const std::string& token, std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--ca-file", ca_file_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto outcome = run_plugin(make_request(quay_->host() + "/team/app", token,
                                           {{"quay.io/federated-robot-account", kRobot}}),
                              args);
    expect_no_leak(outcome.err, {token});
    return outcome;
  }

  static std::string cache_duration(const Outcome& outcome) {
    return nlohmann::json::parse(outcome.out).at("cacheDuration").get<std::string>();
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  std::unique_ptr<FakeQuay> quay_;
};

// Quay signs iat and exp with its own clock. A node 10 minutes behind it, counting exp - its
// own now, would cache a 2-minute token for 11 minutes, and the registry would answer 500 at
// pull time; counting Quay's own lifetime from the request, it caches 90 s.
TEST_F(QuayConformance, ANodeClockTenMinutesBehindQuayCachesQuaysLifetimeOnly) {
  FakeQuayOptions options;
  options.clock_offset = 600s;
  options.token_lifetime = 120s;
  auto& quay = start(options);
  const auto outcome =
      lookup(quay.mint_service_account_token("app", "puller"), {"--cache-margin", "30s"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto cached = cache_duration(outcome);
  EXPECT_TRUE(cached == "90s" || cached == "89s") << cached;
  // iat is in whole seconds of Quay's clock: if a second boundary passes between Quay stamping
  // it and this node reading its own clock (often under qemu-user), the difference is 9m59s.
  EXPECT_THAT(outcome.err,
              ::testing::ContainsRegex("warning this node's clock is (10m0s|9m59s) behind Quay's"));
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 2) << outcome.err;
}

TEST_F(QuayConformance, ANodeClockAheadOfQuayStillGetsTheWholeLifetime) {
  FakeQuayOptions options;
  options.clock_offset = -600s;
  auto& quay = start(options);
  const auto outcome = lookup(quay.mint_service_account_token("app", "puller"));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto cached = cache_duration(outcome);
  EXPECT_TRUE(cached == "3300s" || cached == "3299s") << cached;  // not exp - node now = 2700 s
  EXPECT_THAT(outcome.err, HasSubstr("10m0s ahead of Quay's"));
}

TEST_F(QuayConformance, AClockWithinAMinuteIsNotWarnedAbout) {
  FakeQuayOptions options;
  options.clock_offset = 45s;
  auto& quay = start(options);
  const auto outcome = lookup(quay.mint_service_account_token("app", "puller"));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.err, Not(HasSubstr("warning")));
}

TEST_F(QuayConformance, Rs384TokensAreExchanged) {
  auto& quay = start();
  const auto outcome = lookup(quay.issuer_signer().sign({{"alg", "RS384"}}, claims()));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
}

TEST_F(QuayConformance, AnEcSignedTokenIsAQuay500RetriedOnceAndExplained) {
  auto& quay = start();
  const auto outcome = lookup(quay.issuer_signer().sign({{"alg", "ES256"}}, claims()));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("(HTTP 500)"));
  EXPECT_THAT(outcome.err, HasSubstr("or the key is not RSA (e.g. ES256)"));
  EXPECT_THAT(outcome.err, HasSubstr("(after 2 attempts)"));
  EXPECT_EQ(quay.request_count(), 2U);
}

TEST_F(QuayConformance, ATokenFromAnotherClustersKeyIsExplained) {
  auto& quay = start();
  const RsaSigner other_cluster;  // a kid the issuer's JWKS does not hold
  const auto outcome = lookup(other_cluster.sign(claims()));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("the token's kid is not in that JWKS"));
  EXPECT_EQ(quay.request_count(), 2U);
}

TEST_F(QuayConformance, NbfIsNeverChecked) {
  auto& quay = start();
  auto c = claims();
  c["nbf"] = c["iat"].get<std::int64_t>() + 1800;
  EXPECT_EQ(lookup(quay.issuer_signer().sign(c)).exit_code, 0);
}

TEST_F(QuayConformance, AnIatInQuaysFutureIsAClockProblem) {
  auto& quay = start();
  auto c = claims();
  c["iat"] = c["iat"].get<std::int64_t>() + 600;
  const auto outcome = lookup(quay.issuer_signer().sign(c));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err,
              HasSubstr("Invalid token: Issued At claim (iat) cannot be in the future."));
  EXPECT_THAT(outcome.err, HasSubstr("compare the clocks"));
}

TEST_F(QuayConformance, Quay318StoredAudiencesAreCheckedBeforeTheSubject) {
  FakeQuayOptions options;
  options.quay_3_18 = true;
  auto& quay = start(options, {"quay"});
  auto c = claims("sts.example.com");
  c["sub"] = "system:serviceaccount:app:intruder";  // the audience is checked first
  const auto outcome = lookup(quay.issuer_signer().sign(c));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("(HTTP 400): Invalid token: Audience doesn't match - the "
                                     "token's audience is "
                                     "tokenAttributes.serviceAccountTokenAudience"));
  EXPECT_EQ(quay.request_count(), 1U);
  EXPECT_EQ(lookup(quay.mint_service_account_token("app", "puller")).exit_code, 0);
}

}  // namespace
}  // namespace qcp::test

#include "qcp/diagnostics/inspect.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "fakes.hpp"
#include "layers.hpp"

namespace qcp::inspect_test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const auto kNow = std::chrono::system_clock::time_point{std::chrono::seconds(test::kNow)};

JwtClaims claims() {
  JwtClaims c;
  c.alg = "RS256";
  c.kid = "k1";
  c.iss = "https://oidc.example.com/cluster-a";
  c.sub = "system:serviceaccount:team-a:puller";
  c.aud = {"quay"};
  c.iat = test::kNow - 60;
  c.exp = test::kNow + 3540;
  c.kubernetes.namespace_name = "team-a";
  c.kubernetes.service_account = "puller";
  c.kubernetes.pod = "app-1";
  return c;
}

TEST(Inspect, PrintsClaimsAndTheExactBinding) {
  const auto result = inspect_token(claims(), "team+puller", kNow);
  EXPECT_THAT(result.refusals, IsEmpty());
  EXPECT_THAT(result.text, HasSubstr("issuer:     https://oidc.example.com/cluster-a\n"));
  EXPECT_THAT(result.text, HasSubstr("subject:    system:serviceaccount:team-a:puller\n"));
  EXPECT_THAT(result.text, HasSubstr("expires:    2025-12-31T23:59:00Z (in 59m0s)\n"));
  EXPECT_THAT(result.text, HasSubstr("account:    team-a/puller\n"));
  EXPECT_THAT(result.text, HasSubstr("POST /api/v1/organization/team/robots/puller/federation\n"
                                     "  [{\"issuer\":\"https://oidc.example.com/cluster-a\","
                                     "\"subject\":\"system:serviceaccount:team-a:puller\"}]\n"));
  // Quay through 3.18 drops "audiences" from a binding: never print a body that pretends.
  EXPECT_THAT(result.text, Not(HasSubstr("\"audiences\"]")));
  EXPECT_THAT(result.text, Not(HasSubstr("\"audiences\":")));
  EXPECT_THAT(result.text, HasSubstr("a binding made there checks none; from 3.18, audiences "
                                     "stored in Quay's database are checked"));
  EXPECT_THAT(result.text, HasSubstr("Quay can accept this token"));
  EXPECT_THAT(inspect_token(claims(), "", kNow).text,
              HasSubstr("/api/v1/organization/<org>/robots/<robot>/federation"));
}

TEST(Inspect, SaysWhyQuayWouldRefuse) {
  auto internal = claims();
  internal.iss = "https://kubernetes.default.svc.cluster.local";
  EXPECT_THAT(inspect_token(internal, "", kNow).refusals,
              ElementsAre(HasSubstr("resolves only inside a cluster")));
  // Quay has no address filter: a loopback or private issuer may work if Quay can reach it.
  auto private_issuer = claims();
  private_issuer.iss = "https://10.0.0.5:6443";
  const auto on_private = inspect_token(private_issuer, "", kNow);
  EXPECT_THAT(on_private.refusals, IsEmpty());
  EXPECT_THAT(on_private.warnings, ElementsAre(HasSubstr("Quay must be able to reach it")));
  EXPECT_THAT(on_private.text,
              HasSubstr("warning: the issuer https://10.0.0.5:6443 is a loopback"));
  // Quay never checks nbf.
  auto not_before = claims();
  not_before.nbf = test::kNow + 3000;
  EXPECT_THAT(inspect_token(not_before, "", kNow).refusals, IsEmpty());
  EXPECT_THAT(inspect_token(not_before, "", kNow).text, HasSubstr("(Quay never checks nbf)"));
  auto expired = claims();
  expired.exp = test::kNow - 120;
  EXPECT_THAT(inspect_token(expired, "", kNow).refusals,
              ElementsAre(HasSubstr("expired 2m0s ago")));
  auto within_leeway = claims();
  within_leeway.exp = test::kNow - 20;  // Quay allows 30 s of skew
  EXPECT_THAT(inspect_token(within_leeway, "", kNow).refusals, IsEmpty());
  auto ec = claims();
  ec.alg = "ES256";
  EXPECT_THAT(inspect_token(ec, "", kNow).refusals, ElementsAre(HasSubstr("signed with ES256")));
  auto bare = claims();
  bare.kid.clear();
  bare.iss.clear();
  bare.exp.reset();
  bare.iat.reset();
  bare.sub.clear();
  EXPECT_EQ(inspect_token(bare, "", kNow).refusals.size(), 5U);
  auto plain_http = claims();
  plain_http.iss = "http://oidc.example.com";
  EXPECT_THAT(inspect_token(plain_http, "", kNow).refusals,
              ElementsAre(HasSubstr("not an https:// URL")));
  auto future = claims();
  future.iat = test::kNow + 600;
  EXPECT_THAT(inspect_token(future, "", kNow).refusals, ElementsAre(HasSubstr("clock")));
  EXPECT_THAT(inspect_token(future, "", kNow).text, HasSubstr("Quay would refuse this token."));
}

TEST(Inspect, ClaimsWithC1ControlsAndBidiOverridesAreEscaped) {
  auto c = claims();
  c.iss =
      "https://oidc.example.com/\xc2\x9b"
      "2J\xe2\x80\xae"
      "evil";
  c.sub = "system:serviceaccount:team-a:puller\r\nexpires:    never";
  const auto result = inspect_token(c, "team+puller", kNow);
  EXPECT_THAT(result.text, HasSubstr("https://oidc.example.com/\\u009b2J\\u202eevil"));
  EXPECT_THAT(result.text, HasSubstr("puller\\x0d\\x0aexpires:    never"));
  EXPECT_THAT(result.text, Not(HasSubstr("\xc2\x9b")));
  EXPECT_THAT(result.text, Not(HasSubstr("\xe2\x80\xae")));
}

TEST(Inspect, ExtremeDatesAreShownWithoutOverflow) {
  auto c = claims();
  c.exp = std::numeric_limits<std::int64_t>::max();
  c.iat = std::numeric_limits<std::int64_t>::min();
  c.nbf = std::numeric_limits<std::int64_t>::max();
  const auto far = inspect_token(c, "team+puller", kNow);
  EXPECT_THAT(far.text, HasSubstr("expires:"));
  EXPECT_THAT(far.text, Not(HasSubstr("ago)\nexpires")));
  c.exp = std::numeric_limits<std::int64_t>::min();
  const auto past = inspect_token(c, "team+puller", kNow);
  EXPECT_THAT(past.refusals, ::testing::Contains(HasSubstr("expired")));
}

TEST(Inspect, NotesTokensMadeForTheApiServer) {
  auto api_server = claims();
  api_server.aud = {"https://kubernetes.default.svc.cluster.local", "k3s"};
  const auto result = inspect_token(api_server, "", kNow);
  EXPECT_THAT(result.refusals, IsEmpty());  // Quay before 3.18 ignores aud
  EXPECT_THAT(result.text, HasSubstr("note: an audience is the API server's own"));
  EXPECT_THAT(inspect_token(claims(), "", kNow).text, Not(HasSubstr("note:")));
}

TEST(Inspect, RecognisesClusterInternalIssuers) {
  for (const char* issuer :
       {"https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local",
        "https://kubernetes.default.svc.cluster.local.", "https://KUBERNETES.default.svc",
        "https://kubernetes", "https://oidc.team.svc:8443/x", ""}) {
    EXPECT_TRUE(is_cluster_internal_issuer(issuer)) << issuer;
    EXPECT_FALSE(is_local_or_private_issuer(issuer)) << issuer;
  }
  for (const char* issuer :
       {"https://127.0.0.1:6443", "https://10.96.0.1", "https://192.168.1.4/issuer",
        "https://172.20.0.2:6443", "https://[::1]:6443", "https://[fd00::1]",
        "https://localhost:6443", "https://api.localhost"}) {
    EXPECT_FALSE(is_cluster_internal_issuer(issuer)) << issuer;
    EXPECT_TRUE(is_local_or_private_issuer(issuer)) << issuer;
  }
  for (const char* issuer :
       {"https://oidc.example.com", "https://storage.googleapis.com/bucket", "https://172.32.0.1",
        "https://8.8.8.8", "https://[2001:db8::1]", "https://svc.example.com"}) {
    EXPECT_FALSE(is_cluster_internal_issuer(issuer)) << issuer;
    EXPECT_FALSE(is_local_or_private_issuer(issuer)) << issuer;
  }
}

TEST(Inspect, ClaimsCannotBreakTheReport) {
  auto hostile = claims();
  hostile.sub = "system:serviceaccount:a:b\nproblem: forged line";
  hostile.iss = "https://oidc.example.com/\"}]";
  const auto text = inspect_token(hostile, "", kNow).text;
  EXPECT_THAT(text, Not(HasSubstr("\nproblem: forged")));
  EXPECT_THAT(text, HasSubstr(R"("issuer":"https://oidc.example.com/\"}]")"));
}

}  // namespace
}  // namespace qcp::inspect_test

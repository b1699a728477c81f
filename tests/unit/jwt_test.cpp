#include "qcp/core/jwt.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"

namespace qcp {
namespace {

TEST(Base64Encode, MatchesTheRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
}

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64url_decode("aGVsbG8"), "hello");
  EXPECT_EQ(base64url_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64url_decode("aGk"), "hi");
  EXPECT_EQ(base64url_decode("aGk=="), "hi");
  EXPECT_EQ(base64url_decode(""), "");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64Url, RejectsStandardAlphabetAndImpossibleLengths) {
  EXPECT_FALSE(base64url_decode("ab+/"));
  EXPECT_FALSE(base64url_decode("a"));
  EXPECT_FALSE(base64url_decode("abcde"));
  EXPECT_FALSE(base64url_decode("ab cd"));
}

// A kubeconfig's *-data fields: the standard alphabet, and only it.
TEST(Base64, DecodesTheStandardAlphabetAndRejectsTheUrlOne) {
  EXPECT_EQ(base64_decode("+/+/"), std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode(base64_encode("any bytes\n")), "any bytes\n");
  EXPECT_FALSE(base64_decode("-_8"));
  EXPECT_FALSE(base64_decode("Zm9v\nYmFy"));
}

TEST(DecodeJwtClaims, ReadsQuayTokenClaims) {
  const auto token = test::make_jwt({{"iss", "quay"},
                                     {"aud", "quay.example.com"},
                                     {"sub", "team+puller"},
                                     {"nbf", 1767222000},
                                     {"iat", 1767222000},
                                     {"exp", 1767225600},
                                     {"access", nlohmann::json::object()}});
  const auto claims = decode_jwt_claims(token);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->exp, 1767225600);
  EXPECT_EQ(claims->iat, 1767222000);
  EXPECT_EQ(claims->nbf, 1767222000);
  EXPECT_EQ(claims->iss, "quay");
  EXPECT_EQ(claims->sub, "team+puller");
  EXPECT_EQ(claims->aud, std::vector<std::string>{"quay.example.com"});
}

TEST(DecodeJwtClaims, AcceptsAudienceListsFractionalDatesAndPaddedSegments) {
  auto token = test::make_jwt({{"aud", {"quay", "other"}}, {"exp", 1767225600.75}});
  auto claims = decode_jwt_claims(token);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->exp, 1767225600);
  EXPECT_EQ(claims->aud, (std::vector<std::string>{"quay", "other"}));

  // Padding on a segment (seen from non-conforming encoders) is tolerated.
  const nlohmann::json header = {{"alg", "RS256"}};
  const nlohmann::json payload = {{"exp", 1}};  // {"exp":1} encodes to 12 chars with "=" padding
  auto padded = test::base64url(header.dump()) + "." + test::base64url(payload.dump()) + "==.c2ln";
  EXPECT_TRUE(decode_jwt_claims(padded));
}

TEST(DecodeJwtClaims, MissingOrMistypedExpIsAbsentNotAnError) {
  auto claims = decode_jwt_claims(test::make_jwt({{"sub", "x"}}));
  ASSERT_TRUE(claims);
  EXPECT_FALSE(claims->exp);
  claims = decode_jwt_claims(test::make_jwt({{"exp", "1767225600"}}));
  ASSERT_TRUE(claims);
  EXPECT_FALSE(claims->exp);
}

TEST(DecodeJwtClaims, FarDatesSaturateInsteadOfOverflowing) {
  const std::string header = test::base64url(R"({"alg":"RS256"})");
  const auto claims_of = [&](const std::string& payload) {
    return decode_jwt_claims(header + "." + test::base64url(payload) + ".c2ln");
  };
  const auto huge =
      claims_of(R"({"exp":18446744073709551615,"iat":-9223372036854775808,"nbf":1e300})");
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge->exp, 1'000'000'000'000'000);
  EXPECT_EQ(*huge->iat, -1'000'000'000'000'000);
  EXPECT_EQ(*huge->nbf, 1'000'000'000'000'000);
}

TEST(DecodeJwtClaims, RejectsWhatIsNotAJwt) {
  const auto payload = test::base64url(R"({"exp":1})");
  const auto header = test::base64url(R"({"alg":"RS256"})");
  for (const std::string& text :
       {std::string(""), std::string("opaque-static-robot-token"), header + "." + payload,
        header + "." + payload + ".sig.extra", header + ".!!!." + "sig",
        test::base64url("[1,2]") + "." + payload + ".sig",
        header + "." + test::base64url("42") + ".sig",
        header + "." + test::base64url("not json") + ".sig", header + "." + payload + ".s+g"}) {
    EXPECT_FALSE(decode_jwt_claims(text)) << text;
  }
}

}  // namespace
}  // namespace qcp

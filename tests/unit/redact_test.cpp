#include "qcp/core/redact.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <tuple>

#include "layers.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Redactor, RemovesRegisteredSecretsAndTheirSegments) {
  Redactor redactor;
  redactor.add_secret("eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz");
  EXPECT_EQ(redactor.scrub("bad eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz here"),
            "bad [redacted] here");
  EXPECT_EQ(redactor.scrub("payload eyJzdWIiOiJ4In0 only"), "payload [redacted] only");
  EXPECT_EQ(redactor.scrub("sig=c2lnbmF0dXJlLWJ5dGVz"), "sig=[redacted]");
}

TEST(Redactor, RemovesUnknownTokenShapedRuns) {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3VlciJ9.abcdefghijklmnop";
  EXPECT_THAT(Redactor{}.scrub("Invalid token " + jwt), Not(HasSubstr("eyJ")));
  // Ordinary words, URLs and Quay's messages survive.
  EXPECT_EQ(
      Redactor{}.scrub("issuer https://oidc.example.com/realms/x not configured for this robot"),
      "issuer https://oidc.example.com/realms/x not configured for this robot");
}

TEST(OneLine, EscapesEverythingNonPrintable) {
  EXPECT_EQ(one_line("a\nb\r\tc\x1b[31m\x7f d"), "a\\x0ab\\x0d\\x09c\\x1b[31m\\x7f d");
  EXPECT_EQ(one_line(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(one_line("plain text, ümlaut, 日本, 🙂"), "plain text, ümlaut, 日本, 🙂");
  EXPECT_EQ(one_line(""), "");
}

TEST(OneLine, EscapesC1ControlsBidiOverridesAndBrokenUtf8) {
  EXPECT_EQ(one_line("csi\xc2\x9b"
                     "31m"),
            "csi\\u009b31m");                                       // C1 CSI
  EXPECT_EQ(one_line("admin\xe2\x80\xae") + "|", "admin\\u202e|");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(one_line("a\xe2\x81\xa6"
                     "b\xe2\x80\xa8"
                     "c"),
            "a\\u2066b\\u2028c");  // isolate, LS
  EXPECT_EQ(one_line("zw\xe2\x80\x8bj\xef\xbb\xbf"), "zw\\u200bj\\ufeff");
  EXPECT_EQ(one_line("bad \xff\xc0\x80 \xe2\x80"), "bad \\xff\\xc0\\x80 \\xe2\\x80");
  EXPECT_EQ(one_line("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate is not UTF-8
}

TEST(Redactor, ScrubsAnyPieceOfSixteenOrMoreCharactersOfASecret) {
  const std::string sa =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL29pZGMiLCJzdWIiOiJzIn0."
      "c2lnbmF0dXJlLWJ5dGVzLW9mLXRoZS1zZXJ2aWNlLWFjY291bnQ";
  const std::string robot =
      "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ0ZWFtK3B1bGxlciJ9.cm9ib3Qtc2lnbmF0dXJlLWJ5dGVz";
  Redactor redactor;
  redactor.add_secret(sa);
  redactor.add_secret(robot);
  // Pieces of 16 to 40 characters, from the middle of a segment and across a dot.
  for (const auto& [secret, at, length] :
       {std::tuple{sa, 3U, 20U}, std::tuple{sa, 30U, 16U}, std::tuple{sa, 60U, 40U},
        std::tuple{robot, 10U, 25U}, std::tuple{robot, 45U, 33U}}) {
    const std::string piece = secret.substr(at, length);
    const auto scrubbed = redactor.scrub("Quay said: '" + piece + "' is wrong");
    EXPECT_EQ(scrubbed, "Quay said: '[redacted]' is wrong") << piece;
  }
  // 15 characters are too few to be told apart from ordinary text.
  EXPECT_EQ(redactor.scrub("x " + sa.substr(3, 15)), "x " + sa.substr(3, 15));
  EXPECT_EQ(redactor.scrub("robot team+puller is not allowed to pull"),
            "robot team+puller is not allowed to pull");
}

TEST(Redactor, ScrubsLiteralsOfAnyLength) {
  Redactor redactor;
  redactor.add_literal("u:pw@");
  EXPECT_EQ(redactor.scrub("proxy http://u:pw@proxy:3128 failed"),
            "proxy http://[redacted]proxy:3128 failed");
}

TEST(Redactor, KeepsOneLineAndCapsLength) {
  EXPECT_EQ(Redactor{}.scrub("a\nb\r\x1b[31mc"), "a\\x0ab\\x0d\\x1b[31mc");
  EXPECT_EQ(Redactor{}.scrub(std::string(500, 'x') + " y", 20), "[redacted] y");
  const auto capped = Redactor{}.scrub(std::string(100, 'a') + std::string(400, ' '), 50);
  EXPECT_EQ(capped.size(), 53U);
}

TEST(Wipe, EmptiesTheSecretOnEveryPathOut) {
  std::string secret = "eyJhbGciOi.payload.signature";
  wipe(secret);
  EXPECT_TRUE(secret.empty());
  std::string guarded = "another-secret-value";
  try {
    const WipeOnExit guard(guarded);
    throw std::runtime_error("failure path");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(guarded.empty());
}

TEST(ShortHash, IsStableAndNotTheSecret) {
  EXPECT_EQ(short_hash("abc"), "ba7816bf8f01");  // SHA-256("abc") prefix
  EXPECT_EQ(short_hash("abc").size(), 12U);
  EXPECT_NE(short_hash("abd"), short_hash("abc"));
}

}  // namespace
}  // namespace qcp

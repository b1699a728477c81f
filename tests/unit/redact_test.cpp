#include "qcp/redact.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

TEST(OneLine, ReplacesControlCharactersOnly) {
  EXPECT_EQ(one_line("a\nb\r\tc\x1b[31m\x7f d"), "a?b??c?[31m? d");
  EXPECT_EQ(one_line("plain text, ümlaut"), "plain text, ümlaut");
  EXPECT_EQ(one_line(""), "");
}

TEST(Redactor, KeepsOneLineAndCapsLength) {
  EXPECT_EQ(Redactor{}.scrub("a\nb\r\x1b[31mc"), "a b  [31mc");
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

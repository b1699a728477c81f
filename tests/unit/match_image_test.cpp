#include "qcp/match_image.hpp"

#include <gtest/gtest.h>

namespace qcp {
namespace {

struct Case {
  const char* pattern;
  const char* image;
  bool matches;
};

// The kubelet's own table of matches (keyring.go URLsMatch), pitfalls included.
TEST(MatchImage, FollowsTheKubeletsGrammar) {
  const Case cases[] = {
      {"*.azurecr.io", "myreg.azurecr.io/app", true},
      {"*.azurecr.io", "azurecr.io/app", false},
      {"*.io", "k8s.gcr.io/x", false},
      {"k8s.*", "k8s.io/x", true},
      {"app*.k8s.io", "app1.k8s.io/x", true},
      {"*.dkr.ecr.*.amazonaws.com", "1234.dkr.ecr.us-east-1.amazonaws.com/r", true},
      {"registry.io:8080/path", "registry.io:8080/path/img", true},
      {"registry.io:8080/path", "registry.io/path/img", false},
      {"registry.io", "registry.io:5000/img", false},
      {"registry.io/team", "registry.io/teamx/app", true},
      {"registry.io/team/", "registry.io/team", false},
      {"harbor.example.com/*", "harbor.example.com/library/img", false},
      {"docker.io", "docker.io/library/nginx", true},
      {"index.docker.io", "docker.io/library/nginx", false},
      {"*", "localhost/foo", true},
      {"*", "docker.io/library/nginx", false},
      {"quay.example.com:8443", "quay.example.com:8443/team/app", true},
      {"quay.example.com", "quay.example.com:8443/team/app", false},
      {"quay[0-9].example.com", "quay1.example.com/a", true},
      {"quay[^0-9].example.com", "quay1.example.com/a", false},
      {"[::1]:5000", "[::1]:5000/a", true},
      {"quay.[a-.example.com", "quay.x.example.com/a", false},  // malformed glob: no match
  };
  for (const auto& c : cases) {
    EXPECT_EQ(match_image(c.pattern, c.image), c.matches) << c.pattern << " vs " << c.image;
  }
}

TEST(MatchImage, GlobsFollowGoPathMatch) {
  EXPECT_EQ(glob_match("a*c", "abbbc"), true);
  EXPECT_EQ(glob_match("a?c", "abc"), true);
  EXPECT_EQ(glob_match("a[b-d]c", "acc"), true);
  EXPECT_EQ(glob_match("a[^b]c", "abc"), false);
  EXPECT_EQ(glob_match("a\\*c", "a*c"), true);
  EXPECT_EQ(glob_match("x", "y"), false);
  for (const char* malformed : {"[", "a[", "[]", "[-a]", "[a-]", "a\\", "[^]"}) {
    EXPECT_FALSE(glob_match(malformed, "a").has_value()) << malformed;
  }
  // Go reports a malformed rest of the pattern even after a mismatch.
  EXPECT_FALSE(glob_match("b[", "a").has_value());
}

TEST(MatchImage, InvalidPatternsStopTheKubelet) {
  for (const char* pattern :
       {"quay.example.com:*", "quay.example.com:84a3", "quay example.com", "quay.example.com\t",
        "[::1", "quay|x.io", "quay.io/%zz", "quay%2e.io"}) {
    EXPECT_TRUE(check_match_image(pattern).invalid) << pattern;
  }
}

TEST(MatchImage, PatternsThatCanNeverMatch) {
  for (const char* pattern :
       {"quay.example.com/*", "quay.example.com/team/*", "https://quay.io", "quay.io?x",
        "quay.io#x", "user@quay.io", "", ":8443", "quay.example.com:", "quay..io", ".quay.io",
        "quay.[a.io", "quay.io:80:80", "::1"}) {
    const auto verdict = check_match_image(pattern);
    EXPECT_FALSE(verdict.invalid) << pattern;
    EXPECT_TRUE(verdict.never_matches) << pattern;
  }
}

TEST(MatchImage, GoodPatternsPass) {
  for (const char* pattern : {"quay.example.com", "quay.example.com:8443", "*.quay.io",
                              "quay.io/team", "[::1]:5000", "10.0.0.5:5000", "quay[0-9].io"}) {
    const auto verdict = check_match_image(pattern);
    EXPECT_FALSE(verdict.invalid) << pattern;
    EXPECT_FALSE(verdict.never_matches) << pattern << ": " << verdict.never_matches.value_or("");
  }
}

}  // namespace
}  // namespace qcp

#include "qcp/kube/match_image.hpp"

#include <gtest/gtest.h>

#include "layers.hpp"

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
      // Go's url.Parse refuses a '[' anywhere but first: a class in a host label never matches
      // (and the kubelet refuses to start with it).
      {"quay[0-9].example.com", "quay1.example.com/a", false},
      {"quay[^0-9].example.com", "quay1.example.com/a", false},
      // Parsed as a URL first: query, fragment, user information and an empty port are dropped.
      {"quay.example.com?x=1", "quay.example.com/team/app", true},
      {"quay.example.com#f", "quay.example.com/team/app", true},
      {"user@quay.example.com", "quay.example.com/team/app", true},
      {"quay.example.com:", "quay.example.com/team/app", true},
      {"quay.example.com:", "quay.example.com:8443/team/app", false},
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
        "[::1", "quay|x.io", "quay.io/%zz", "quay%2e.io", "quay.[a.io", "quay[0-9].io",
        "[1.2.3.4]:5000", "[a-z]uay.io", "quay.io]["}) {
    EXPECT_TRUE(check_match_image(pattern).invalid) << pattern;
  }
}

TEST(MatchImage, PatternsThatCanNeverMatch) {
  for (const char* pattern : {"quay.example.com/*", "quay.example.com/team/*", "https://quay.io",
                              "", ":8443", "quay..io", ".quay.io", "quay.io:80:80", "::1"}) {
    const auto verdict = check_match_image(pattern);
    EXPECT_FALSE(verdict.invalid) << pattern;
    EXPECT_TRUE(verdict.never_matches) << pattern;
  }
}

TEST(MatchImage, GoodPatternsPass) {
  for (const char* pattern :
       {"quay.example.com", "quay.example.com:8443", "*.quay.io", "quay.io/team", "[::1]:5000",
        "[fe80::1%25eth0]", "10.0.0.5:5000", "quay*.io"}) {
    const auto verdict = check_match_image(pattern);
    EXPECT_FALSE(verdict.invalid) << pattern << ": " << verdict.invalid.value_or("");
    EXPECT_FALSE(verdict.never_matches) << pattern << ": " << verdict.never_matches.value_or("");
    EXPECT_FALSE(verdict.unusual) << pattern;
  }
}

TEST(MatchImage, UnusualPatternsMatchWhatTheKubeletKeeps) {
  // "quay?.io" is no glob: '?' starts the URL query, so it matches the one-label host "quay".
  for (const char* pattern :
       {"quay.io?x=1", "quay.io#x", "user@quay.io", "quay.example.com:", "quay?.io"}) {
    const auto verdict = check_match_image(pattern);
    EXPECT_FALSE(verdict.invalid) << pattern;
    EXPECT_FALSE(verdict.never_matches) << pattern;
    EXPECT_TRUE(verdict.unusual) << pattern;
  }
}

TEST(MatchImage, DockerHubShortNamesAreNormalisedAsTheKubeletDoes) {
  EXPECT_EQ(normalized_image("busybox"), "docker.io/library/busybox");
  EXPECT_EQ(normalized_image("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(normalized_image("team/app"), "docker.io/team/app");
  EXPECT_EQ(normalized_image("docker.io/busybox"), "docker.io/library/busybox");
  EXPECT_EQ(normalized_image("index.docker.io/team/app"), "docker.io/team/app");
  EXPECT_EQ(normalized_image("localhost/app"), "localhost/app");
  EXPECT_EQ(normalized_image("quay.example.com:8443/team/app"), "quay.example.com:8443/team/app");
  EXPECT_EQ(normalized_image("registry:5000/app"), "registry:5000/app");
  EXPECT_TRUE(match_image("docker.io", normalized_image("busybox")));
  EXPECT_TRUE(match_image("*.io", normalized_image("busybox")));
}

}  // namespace
}  // namespace qcp

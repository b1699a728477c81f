#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

// "Secrets never leave", asserted the same way at every level of the tests: unit (run() with
// fakes), integration (real HTTPS) and e2e (the built binary).
namespace qcp::test {

// Every secret and every long-enough piece of one: none may appear in what we print.
inline std::vector<std::string> secret_fragments(const std::vector<std::string>& tokens) {
  std::vector<std::string> fragments;
  for (const auto& token : tokens) {
    fragments.push_back(token);
    std::size_t start = 0;
    while (start < token.size()) {
      const auto dot = std::min(token.find('.', start), token.size());
      const auto segment = token.substr(start, dot - start);
      // Any 16-character window of a segment is enough to recognise a leak.
      for (std::size_t i = 0; i + 16 <= segment.size(); i += 8) {
        fragments.push_back(segment.substr(i, 16));
      }
      start = dot + 1;
    }
  }
  return fragments;
}

inline void expect_no_leak(const std::string& text, const std::vector<std::string>& tokens) {
  for (const auto& fragment : secret_fragments(tokens)) {
    ASSERT_EQ(text.find(fragment), std::string::npos) << "secret fragment leaked: " << text;
  }
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("Authorization")));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("Basic ")));
}

}  // namespace qcp::test

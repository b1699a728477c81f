#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace qcp::core {

// text without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// The pieces of text between separators; a separator at the very end starts no empty piece
// ("a\nb\n" -> "a", "b"), one in the middle does ("a\n\nb" -> "a", "", "b").
inline std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    pieces.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return pieces;
}

}  // namespace qcp::core

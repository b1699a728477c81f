#include "qcp/core/names.hpp"

#include <algorithm>
#include <cstddef>

namespace qcp {
namespace {

constexpr std::size_t kMaxSubdomain = 253;

bool is_label_end(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_label(std::string_view label) {
  return !label.empty() && is_label_end(label.front()) && is_label_end(label.back()) &&
         std::all_of(label.begin(), label.end(),
                     [](char c) { return is_label_end(c) || c == '-'; });
}

}  // namespace

bool is_dns_subdomain(std::string_view text) {
  if (text.empty() || text.size() > kMaxSubdomain) {
    return false;
  }
  for (std::size_t start = 0;;) {
    const auto dot = text.find('.', start);
    if (!is_label(text.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

}  // namespace qcp

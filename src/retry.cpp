#include "qcp/retry.hpp"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace qcp {

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap,
                                        const std::function<double()>& uniform) {
  constexpr int kMaxShift = 20;  // 2^20 * base is far beyond any cap; avoids overflow
  const int shift = std::clamp(attempt - 1, 0, kMaxShift);
  const auto ceiling = std::min(cap, base * (std::int64_t{1} << shift));
  const double draw = std::clamp(uniform(), 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(draw * static_cast<double>(ceiling.count())));
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) {
      return std::nullopt;  // beyond any deadline we could honour
    }
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&parts));
  return std::max(std::chrono::milliseconds{0},
                  std::chrono::duration_cast<std::chrono::milliseconds>(at - now));
}

}  // namespace qcp

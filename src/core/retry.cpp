#include "qcp/core/retry.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>

namespace qcp::core {
namespace {

// Digits at text[at, at + count) as a number; -1 if any is not a digit.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return -1;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

// Parsed by hand: exact, and no locale-dependent strptime.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) {
  constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  constexpr std::size_t kLength = 29;
  if (text.size() != kLength || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT" ||
      std::find(kDays.begin(), kDays.end(), text.substr(0, 3)) == kDays.end()) {
    return std::nullopt;
  }
  const auto month = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  const int day = digits(text, 5, 2);
  const int year = digits(text, 12, 4);
  const int hour = digits(text, 17, 2);
  const int minute = digits(text, 20, 2);
  const int second = digits(text, 23, 2);
  if (month == kMonths.end() || day < 0 || year < 0 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{
      std::chrono::year{year},
      std::chrono::month{static_cast<unsigned>(month - kMonths.begin() + 1)},
      std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

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
  const auto at = parse_http_date(value);
  if (!at) {
    return std::nullopt;
  }
  // In milliseconds, not system_clock's nanoseconds, which end in 2262 (an HTTP date may say
  // 9999). A wait beyond a day is beyond any deadline: capped there.
  using std::chrono::milliseconds;
  constexpr milliseconds kDay{86'400'000};
  const auto now_ms = std::chrono::floor<milliseconds>(now.time_since_epoch());
  const auto at_ms = std::chrono::duration_cast<milliseconds>(at->time_since_epoch());
  return std::clamp(at_ms - now_ms, milliseconds{0}, kDay);
}

double random_unit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace qcp::core

#include "qcp/core/duration.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

namespace qcp::core {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t nanoseconds;
};

// Longest names first so "ms" is not read as "m".
constexpr std::array<Unit, 8> kUnits = {{{"ns", 1},
                                         {"us", 1'000},
                                         {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
                                         {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
                                         {"ms", 1'000'000},
                                         {"s", 1'000'000'000},
                                         {"m", 60'000'000'000},
                                         {"h", 3'600'000'000'000}}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") {
    return std::chrono::nanoseconds{0};
  }
  if (text.empty()) {
    return std::nullopt;
  }
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  // Go allows up to 2^63 ns in total; we accumulate in long double and check at the end per term.
  long double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    long double whole = 0;
    while (i < text.size() && is_digit(text[i])) {
      whole = whole * 10 + (text[i] - '0');
      ++i;
    }
    bool had_digits = i > 0;
    long double fraction = 0;
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && is_digit(text[i])) {
        fraction += (text[i] - '0') * scale;
        scale /= 10;
        had_digits = true;
        ++i;
      }
    }
    if (!had_digits) {
      return std::nullopt;
    }
    text.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (text.starts_with(candidate.name) &&
          (unit == nullptr || candidate.name.size() > unit->name.size())) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) {
      return std::nullopt;  // Go requires a unit on every term (only a bare "0" may omit it)
    }
    text.remove_prefix(unit->name.size());
    total += (whole + fraction) * static_cast<long double>(unit->nanoseconds);
    if (total > static_cast<long double>(kMax)) {
      return std::nullopt;
    }
  }
  const auto nanoseconds = static_cast<std::int64_t>(total);
  return std::chrono::nanoseconds{negative ? -nanoseconds : nanoseconds};
}

std::chrono::system_clock::time_point from_unix_seconds(std::int64_t seconds) {
  using std::chrono::system_clock;
  constexpr auto kMax =
      std::chrono::duration_cast<std::chrono::seconds>(system_clock::duration::max()).count() - 1;
  const auto clamped = std::clamp<std::int64_t>(seconds, -kMax, kMax);
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(std::chrono::seconds(clamped)));
}

std::chrono::seconds seconds_between(std::chrono::system_clock::time_point a,
                                     std::chrono::system_clock::time_point b) {
  // In nanoseconds the difference of two extreme times overflows; in microseconds it cannot
  // (each side is within +-2^63 ns, so within +-2^54 us).
  using std::chrono::microseconds;
  const auto from = std::chrono::floor<microseconds>(a.time_since_epoch());
  const auto to = std::chrono::floor<microseconds>(b.time_since_epoch());
  return std::chrono::floor<std::chrono::seconds>(to - from);
}

std::string format_seconds(std::chrono::seconds value) {
  return std::to_string(value.count()) + "s";
}

std::string format_human(std::chrono::seconds value) {
  // Appends piece by piece: GCC 12 misreports chained temporaries here (-Wrestrict, PR105651).
  std::string out;
  auto seconds = value.count();
  if (seconds < 0) {
    out.push_back('-');
    seconds = -seconds;
  }
  const auto append = [&out](long long number, char unit) {
    out.append(std::to_string(number));
    out.push_back(unit);
  };
  const auto hours = seconds / 3600;
  const auto minutes = (seconds % 3600) / 60;
  if (hours > 0) {
    append(hours, 'h');
    append(minutes, 'm');
  } else if (minutes > 0) {
    append(minutes, 'm');
  }
  append(seconds % 60, 's');
  return out;
}

std::string rfc3339(std::int64_t seconds) {
  const auto time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  std::array<char, 32> buffer{};
  if (gmtime_r(&time, &utc) == nullptr ||
      std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return std::to_string(seconds);
  }
  return buffer.data();
}

std::string rfc3339_micro(std::chrono::system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const auto seconds = micros / 1000000 - (micros % 1000000 < 0 ? 1 : 0);
  const auto fraction = micros - seconds * 1000000;
  std::string text = rfc3339(seconds);
  std::array<char, 8> digits{};
  std::snprintf(digits.data(), digits.size(), ".%06lld", static_cast<long long>(fraction));
  text.insert(text.size() - 1, digits.data());
  return text;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
      return std::nullopt;
    }
  }
  const auto number = [&](std::size_t at, std::size_t length) {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const std::chrono::year_month_day date{std::chrono::year{number(0, 4)},
                                         std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                         std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  const int hours = number(11, 2);
  const int minutes = number(14, 2);
  const int seconds = number(17, 2);
  if (!date.ok() || hours > 23 || minutes > 59 || seconds > 59) {
    return std::nullopt;
  }
  const auto days = std::chrono::sys_days{date}.time_since_epoch();
  return std::chrono::duration_cast<std::chrono::seconds>(days).count() +
         (hours * 60 + minutes) * 60 + seconds;
}

}  // namespace qcp::core

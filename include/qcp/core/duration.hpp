#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qcp::core {

// Go's time.ParseDuration grammar ("300ms", "1.5h", "2h45m", "0"), as the kubelet uses for
// durations. nullopt on malformed input or overflow.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// The response's cacheDuration: whole seconds, "<n>s", the form the kubelet can never misread.
std::string format_seconds(std::chrono::seconds value);

// Unix seconds as a wall-clock time, saturated to what system_clock (nanoseconds, 1677-2262)
// can hold: a token "expiring in 2500" must not wrap around into the past.
std::chrono::system_clock::time_point from_unix_seconds(std::int64_t seconds);

// b - a in whole seconds (rounded down), computed without overflow whatever a and b are.
std::chrono::seconds seconds_between(std::chrono::system_clock::time_point a,
                                     std::chrono::system_clock::time_point b);

// For humans (logs, messages): "55m0s", "1h0m0s", "42s", like Go's Duration.String.
std::string format_human(std::chrono::seconds value);

// Unix seconds as RFC 3339 in UTC, "2026-12-06T18:18:01Z" (the API server's timestamps); the
// number itself when it is no date gmtime can give.
std::string rfc3339(std::int64_t seconds);
// A time as RFC 3339 in UTC with exactly six fractional digits, "2026-12-06T18:12:05.734329Z":
// the API server's MicroTime, which refuses any other number of digits (kube-api/09c).
std::string rfc3339_micro(std::chrono::system_clock::time_point time);
// The reverse, for exactly that shape ("YYYY-MM-DDTHH:MM:SSZ", a real date); nullopt otherwise.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace qcp::core

#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace qcp {

// Go's time.ParseDuration grammar ("300ms", "1.5h", "2h45m", "0"), as the kubelet uses for
// durations. nullopt on malformed input or overflow.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// The response's cacheDuration: whole seconds, "<n>s", the form the kubelet can never misread.
std::string format_seconds(std::chrono::seconds value);

// For humans (logs, messages): "55m0s", "1h0m0s", "42s", like Go's Duration.String.
std::string format_human(std::chrono::seconds value);

}  // namespace qcp

#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace qcp::core {

// Full-jitter exponential backoff: a uniform draw in [0, min(cap, base * 2^(attempt-1))].
// `uniform` returns a number in [0, 1).
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap,
                                        const std::function<double()>& uniform);

// A uniform draw in [0, 1) from a per-thread engine seeded once: jitter, not cryptography.
double random_unit();

// An IMF-fixdate (RFC 9110 §5.6.7), the only HTTP date form a server may send, e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT"; nullopt for anything else.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as a wait from `now`.
// nullopt when malformed; a date in the past means "now".
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace qcp::core

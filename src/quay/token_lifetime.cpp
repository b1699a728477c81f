#include "qcp/quay/token_lifetime.hpp"

#include <algorithm>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

namespace {

std::chrono::seconds usable_for(std::chrono::seconds remaining, std::chrono::seconds margin,
                                std::optional<std::chrono::seconds> max_duration) {
  // Never more than Quay's fixed lifetime, whatever exp says (a far-future exp is a broken
  // token, not a licence).
  remaining = std::min(remaining, kQuayTokenLifetime);
  const auto usable = remaining - margin;
  if (usable <= std::chrono::seconds{0}) {
    throw Failure(ExitCode::kLookupFailed,
                  "Quay's token expires in " + format_human(remaining) +
                      ", within the cache margin of " + format_human(margin) +
                      ": check this node's clock against Quay's, or lower --cache-margin");
  }
  if (max_duration && usable > *max_duration) {
    return *max_duration;
  }
  return usable;
}

}  // namespace

std::chrono::seconds cache_duration_for(std::chrono::system_clock::time_point expires_at,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration) {
  // Floor, never round up: caching a second too long would outlive the token.
  return usable_for(seconds_between(now, expires_at), margin, max_duration);
}

std::chrono::seconds cache_duration_for(std::optional<std::chrono::seconds> lifetime,
                                        std::chrono::steady_clock::time_point requested_at,
                                        std::chrono::system_clock::time_point expires_at,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::steady_clock::time_point monotonic_now,
                                        std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration) {
  if (!lifetime) {
    return cache_duration_for(expires_at, now, margin, max_duration);
  }
  // Quay issued the token after the request left: counting from the sending errs short, and
  // the elapsed time is rounded up for the same reason.
  const auto elapsed = std::chrono::ceil<std::chrono::seconds>(monotonic_now - requested_at);
  return usable_for(*lifetime - elapsed, margin, max_duration);
}

}  // namespace qcp::quay

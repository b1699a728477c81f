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

std::chrono::steady_clock::time_point valid_until(const QuayToken& token, const Clock& clock) {
  const auto now = clock.monotonic();
  if (!token.lifetime) {
    return now + std::min<std::chrono::steady_clock::duration>(token.expires_at - clock.now(),
                                                               kQuayTokenLifetime);
  }
  // Quay issued the token after the request left: counting from the sending errs short.
  return std::min(token.requested_at + *token.lifetime, now + kQuayTokenLifetime);
}

std::chrono::seconds time_left(std::chrono::steady_clock::time_point valid_until,
                               const Clock& clock) {
  // Floor, never round up: a second too many would outlive the token.
  return std::chrono::floor<std::chrono::seconds>(valid_until - clock.monotonic());
}

std::chrono::seconds cache_duration_for(std::chrono::steady_clock::time_point valid_until,
                                        const Clock& clock, std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration) {
  return usable_for(time_left(valid_until, clock), margin, max_duration);
}

}  // namespace qcp::quay

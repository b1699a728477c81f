// When the reconciler looks at a ServiceAccount again: its renewal, or a retry after a failure.
#include <algorithm>

#include "controller/reasons.hpp"
#include "qcp/controller/reconciler.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/quay/renewal.hpp"

namespace qcp::controller {

Reconciler::TimePoint Reconciler::retry_later(const ServiceAccount& account, FailureReason reason,
                                              const std::string& message, bool quay_unavailable) {
  count(counts_.failures, reason);
  int failures = 0;
  std::optional<TimePoint> valid_until;
  {
    const std::lock_guard lock(mutex_);
    failures = ++failures_[key_of(account.meta)];
    if (const auto it = written_.find(key_of(account.meta)); it != written_.end()) {
      valid_until = it->second.valid_until;
    }
  }
  // Never sooner than base/2: full jitter alone may draw ~0 and spin on a broken Quay.
  auto delay = std::max(renewal_.retry_base / 2, backoff_delay(failures, renewal_.retry_base,
                                                               renewal_.retry_cap, random_unit));
  if (valid_until) {
    delay = std::min(delay, before_expiry(*valid_until));
  }
  if (quay_unavailable) {
    const auto now = parts_.clock.monotonic();
    delay = std::chrono::ceil<std::chrono::milliseconds>(
        outage_.unavailable(key_of(account.meta), now, now + delay) - now);
  }
  const std::string retry = message + " (attempt " + std::to_string(failures) + "; again in " +
                            format_human(std::chrono::ceil<std::chrono::seconds>(delay)) +
                            "; a Secret already written is kept)";
  parts_.log.warn("{}", retry);
  if (!account.meta.uid.empty()) {
    parts_.events.record(account, EventType::kWarning, kFailedReason, retry);
  }
  return parts_.clock.monotonic() + delay;
}

void Reconciler::quay_answered(const std::string& key) {
  for (const auto& waited : outage_.answered(key, parts_.clock.monotonic())) {
    if (parts_.again_now) {
      parts_.again_now(waited);
    }
  }
}

// The backoff grows to minutes, but a Secret whose token is running out is tried more often, not
// less: at least four more times before it expires, never more than once a second.
std::chrono::milliseconds Reconciler::before_expiry(TimePoint valid_until) const {
  constexpr std::chrono::milliseconds kOftenest{1000};
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(valid_until - parts_.clock.monotonic());
  return left <= std::chrono::milliseconds::zero() ? std::chrono::milliseconds::max()
                                                   : std::max(kOftenest, left / 4);
}

Reconciler::TimePoint Reconciler::renewal_time(std::chrono::milliseconds left, bool first) const {
  auto wait = renew_after(left, renewal_.renew_before, random_unit());
  if (first) {
    // A first sync creates thousands of Secrets within minutes: drawing each one's first renewal
    // from the last three quarters of the wait spreads the fleet over the whole cycle, where the
    // usual 10% jitter alone would bring the same burst back every cycle.
    constexpr double kEarliest = 0.25;
    wait = std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(
        static_cast<double>(wait.count()) * (kEarliest + (1.0 - kEarliest) * random_unit()))};
  }
  return parts_.clock.monotonic() + wait;
}

}  // namespace qcp::controller

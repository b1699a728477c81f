#include "qcp/workload/refresh.hpp"

#include <algorithm>
#include <optional>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/quay/renewal.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {
namespace {

using std::chrono::milliseconds;

std::string in_words(milliseconds duration) {
  return format_human(std::chrono::ceil<std::chrono::seconds>(duration));
}

}  // namespace

int refresh_loop(const RefreshSteps& steps, const RefreshSettings& settings, const Clock& clock) {
  int failures = 0;
  // On the monotonic clock: a wall clock stepped back must not keep an expired one "valid".
  std::optional<std::chrono::steady_clock::time_point> published_until;
  const auto ready = [&steps](bool value) {
    if (steps.set_ready) {
      steps.set_ready(value);
    }
  };
  for (;;) {
    milliseconds wait{0};
    try {
      const RobotCredential credential = steps.obtain();
      steps.publish(credential);
      published_until = credential.valid_until;
      ready(true);
      const auto left =
          std::chrono::duration_cast<milliseconds>(credential.valid_until - clock.monotonic());
      wait = renew_after(left, settings.margin, steps.uniform());
      failures = 0;
      steps.note("refreshed the credential for robot " + credential.robot + " on " +
                 credential.registry + ": valid for " + in_words(left) + ", next refresh in " +
                 in_words(wait));
    } catch (const Failure& failure) {
      ++failures;
      wait =
          std::max(backoff_delay(failures, settings.first_retry, settings.max_retry, steps.uniform),
                   milliseconds{100});
      const bool expired = published_until && clock.monotonic() >= *published_until;
      if (expired) {
        ready(false);
      }
      steps.note(std::string(failure.what()) +
                 (!published_until ? "; nothing published yet"
                  : expired        ? "; the published credential has expired"
                                   : "; the published credential stays valid") +
                 "; retrying in " + in_words(wait));
    }
    if (steps.wait_or_stop(wait)) {
      return 0;
    }
  }
}

}  // namespace qcp::workload

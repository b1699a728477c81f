#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

// What the refresh loop does and waits with: the real ones mint, write files and wait for
// SIGTERM; tests pass their own.
struct RefreshSteps {
  std::function<RobotCredential()> obtain;              // throws Failure when it cannot
  std::function<void(const RobotCredential&)> publish;  // writes the output; throws Failure
  // Waits up to `duration`; true when asked to stop (SIGTERM) meanwhile.
  std::function<bool(std::chrono::milliseconds duration)> wait_or_stop;
  std::function<double()> uniform;                    // [0, 1), for jitter
  std::function<void(const std::string& line)> note;  // one log line (stderr)
  // true after each publish; false once what was published has expired (its valid_until, on
  // the monotonic clock) and renewing still fails (a readiness probe's signal). The real one
  // also takes readiness away at valid_until itself, even while an attempt runs (login.cpp's
  // ExpiryAlarm). Empty: nobody asks.
  std::function<void(bool ready)> set_ready;
};

struct RefreshSettings {
  std::chrono::seconds margin{300};  // --cache-margin: renew this long before expiry
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{60000};
};

// Obtains and publishes a credential, then again before each expires, until wait_or_stop says
// stop; returns 0 then. A failure is one line and a retry with exponential backoff (full
// jitter); what was published stays in place meanwhile: nothing is truncated or removed.
int refresh_loop(const RefreshSteps& steps, const RefreshSettings& settings, const Clock& clock);

}  // namespace qcp::workload

#pragma once

#include <signal.h>

#include <chrono>
#include <string>

namespace qcp::core {

// SIGTERM and SIGINT for a long-running command (install --watch, login --refresh): blocked
// from construction on, so they wait for a point where stopping is safe instead of killing the
// process halfway through writing a file, and taken only in wait().
class StopSignals {
 public:
  StopSignals();
  // Waits up to `duration`: the signal's name when one came ("SIGTERM"), "" when time ran out.
  [[nodiscard]] std::string wait(std::chrono::milliseconds duration) const;
  // Whether one is waiting to be taken, without taking it: for work that should end early.
  [[nodiscard]] bool pending() const;

 private:
  sigset_t set_{};
};

}  // namespace qcp::core

#include "qcp/core/stop_signals.hpp"

#include <algorithm>
#include <cerrno>

namespace qcp::core {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  sigprocmask(SIG_BLOCK, &set_, nullptr);
}

std::string StopSignals::wait(std::chrono::milliseconds duration) const {
  const auto until = std::chrono::steady_clock::now() + duration;
  for (;;) {
    const auto left =
        std::max(std::chrono::nanoseconds{0}, until - std::chrono::steady_clock::now());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    const timespec timeout{.tv_sec = static_cast<time_t>(seconds.count()),
                           .tv_nsec = static_cast<long>((left - seconds).count())};
    const int signal = ::sigtimedwait(&set_, nullptr, &timeout);
    if (signal == SIGTERM) {
      return "SIGTERM";
    }
    if (signal == SIGINT) {
      return "SIGINT";
    }
    if (signal < 0 && errno == EINTR && std::chrono::steady_clock::now() < until) {
      continue;  // another signal (SIGCHLD of a token command): keep waiting
    }
    return "";
  }
}

bool StopSignals::pending() const {
  sigset_t waiting;
  sigemptyset(&waiting);
  return ::sigpending(&waiting) == 0 &&
         (sigismember(&waiting, SIGTERM) == 1 || sigismember(&waiting, SIGINT) == 1);
}

}  // namespace qcp::core

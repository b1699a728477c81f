#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace qcp::core {

// A stop shared by a long-running command's threads (SIGTERM, a lost lease): requested once,
// seen at once by every wait, so no loop sleeps through it.
class StopFlag {
 public:
  StopFlag() = default;
  StopFlag(const StopFlag&) = delete;
  StopFlag& operator=(const StopFlag&) = delete;
  StopFlag(StopFlag&&) = delete;
  StopFlag& operator=(StopFlag&&) = delete;
  ~StopFlag() = default;

  void request();
  [[nodiscard]] bool requested() const;
  // Waits on the monotonic clock; true when a stop was requested (before or during the wait).
  bool wait_for(std::chrono::milliseconds duration) const;
  bool wait_until(std::chrono::steady_clock::time_point when) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool requested_ = false;
};

}  // namespace qcp::core

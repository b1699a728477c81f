#include "qcp/core/stop_flag.hpp"

namespace qcp::core {

void StopFlag::request() {
  {
    const std::lock_guard lock(mutex_);
    requested_ = true;
  }
  changed_.notify_all();
}

bool StopFlag::requested() const {
  const std::lock_guard lock(mutex_);
  return requested_;
}

bool StopFlag::wait_for(std::chrono::milliseconds duration) const {
  return wait_until(std::chrono::steady_clock::now() + duration);
}

bool StopFlag::wait_until(std::chrono::steady_clock::time_point when) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, when, [this] { return requested_; });
}

}  // namespace qcp::core

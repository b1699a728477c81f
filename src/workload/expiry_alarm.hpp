#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

// Runs `on_expiry` once a published credential expires, on the monotonic clock and on a thread
// of its own: a refresh attempt stuck on a stalled Quay, or a wall clock stepped back, must not
// keep a readiness signal past the credential it vouches for.
class ExpiryAlarm {
 public:
  explicit ExpiryAlarm(std::function<void()> on_expiry);
  ExpiryAlarm(const ExpiryAlarm&) = delete;
  ExpiryAlarm& operator=(const ExpiryAlarm&) = delete;
  ExpiryAlarm(ExpiryAlarm&&) = delete;
  ExpiryAlarm& operator=(ExpiryAlarm&&) = delete;
  ~ExpiryAlarm();

  // Runs `publish` and sets the alarm for `expires`, as one step: the alarm never fires
  // between a new credential's publication and its new expiry.
  void published(std::chrono::steady_clock::time_point expires,
                 const std::function<void()>& publish);

 private:
  void run();

  std::function<void()> on_expiry_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::chrono::steady_clock::time_point> expires_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace qcp::workload

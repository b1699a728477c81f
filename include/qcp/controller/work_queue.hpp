#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::controller {

// Keys ("namespace/name") that need work, each at a time (now, or when its credential is due
// for renewal), as client-go's delaying work queue: a key waits once however often it is
// added (the earliest time wins), and is never worked on by two workers at once (added while
// in work, it waits for done()). Times are on the monotonic clock; waits are real.
class WorkQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  void add(const std::string& key, TimePoint due);
  // The next key that is due, once it is; nullopt once `stop` is requested.
  std::optional<std::string> take(const StopFlag& stop);
  // The worker is finished with `key` (taken by take()).
  void done(const std::string& key);
  [[nodiscard]] std::size_t waiting() const;

 private:
  void schedule(const std::string& key, TimePoint due);  // with the lock held

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, TimePoint, std::less<>> due_;  // waiting keys
  std::set<std::pair<TimePoint, std::string>> order_;  // the same, by time
  std::set<std::string, std::less<>> working_;
  std::map<std::string, TimePoint, std::less<>> again_;  // added while in work
};

}  // namespace qcp::controller

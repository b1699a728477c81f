#include "qcp/controller/work_queue.hpp"

namespace qcp::controller {
namespace {

// How often a waiting worker looks at the stop flag (a queue cannot wait on two conditions).
constexpr std::chrono::milliseconds kStopCheck{200};

}  // namespace

void WorkQueue::add(const std::string& key, TimePoint due) {
  {
    const std::lock_guard lock(mutex_);
    if (working_.contains(key)) {
      const auto [it, added] = again_.try_emplace(key, due);
      if (!added && due < it->second) {
        it->second = due;
      }
      return;
    }
    schedule(key, due);
  }
  changed_.notify_one();
}

void WorkQueue::schedule(const std::string& key, TimePoint due) {
  const auto [it, added] = due_.try_emplace(key, due);
  if (!added) {
    if (it->second <= due) {
      return;
    }
    order_.erase({it->second, key});
    it->second = due;
  }
  order_.emplace(due, key);
}

std::optional<std::string> WorkQueue::take(const StopFlag& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (!order_.empty() && order_.begin()->first <= now) {
      std::string key = order_.begin()->second;
      order_.erase(order_.begin());
      due_.erase(key);
      working_.insert(key);
      return key;
    }
    const auto wake =
        order_.empty() ? now + kStopCheck : std::min(order_.begin()->first, now + kStopCheck);
    changed_.wait_until(lock, wake);
  }
  return std::nullopt;
}

void WorkQueue::done(const std::string& key) {
  {
    const std::lock_guard lock(mutex_);
    working_.erase(key);
    const auto again = again_.find(key);
    if (again == again_.end()) {
      return;
    }
    schedule(key, again->second);
    again_.erase(again);
  }
  changed_.notify_one();
}

std::size_t WorkQueue::waiting() const {
  const std::lock_guard lock(mutex_);
  return due_.size() + again_.size();
}

}  // namespace qcp::controller

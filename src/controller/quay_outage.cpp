#include "qcp/controller/quay_outage.hpp"

#include <algorithm>

namespace qcp::controller {

QuayOutage::QuayOutage(std::chrono::milliseconds probe_every, TimePoint started)
    : probe_every_(probe_every), last_answer_(started) {}

std::chrono::milliseconds QuayOutage::probe_interval(std::chrono::seconds renew_before) {
  return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(renew_before) / 4,
                    std::chrono::milliseconds{1000}, std::chrono::milliseconds{30000});
}

QuayOutage::TimePoint QuayOutage::unavailable(const std::string& key, TimePoint now,
                                              TimePoint due) {
  const std::lock_guard lock(mutex_);
  waiting_.insert(key);
  if (now - last_answer_ < probe_every_) {
    return due;  // exchanges succeeded a moment ago: this may be one robot's trouble
  }
  // A probe whose retry is overdue by a whole interval was forgotten or lost: another takes over.
  const bool probe_lost = probe_.empty() || probe_due_ + probe_every_ < now;
  if (!probe_lost && probe_ != key) {
    return due;
  }
  probe_ = key;
  probe_due_ = std::min(due, now + probe_every_);
  return probe_due_;
}

std::vector<std::string> QuayOutage::answered(const std::string& key, TimePoint now) {
  const std::lock_guard lock(mutex_);
  const bool after_outage = now - last_answer_ >= probe_every_;
  last_answer_ = std::max(last_answer_, now);
  waiting_.erase(key);
  if (probe_ == key) {
    probe_.clear();
  }
  if (!after_outage || waiting_.empty()) {
    return {};
  }
  // Each tries once more now; one that fails again goes back to waiting, with its backoff.
  std::vector<std::string> woken(waiting_.begin(), waiting_.end());
  waiting_.clear();
  probe_.clear();
  return woken;
}

void QuayOutage::forget(const std::string& key) {
  const std::lock_guard lock(mutex_);
  waiting_.erase(key);
  if (probe_ == key) {
    probe_.clear();
  }
}

std::size_t QuayOutage::waiting() const {
  const std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace qcp::controller

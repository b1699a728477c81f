#pragma once

// The API server's clock, as this node reads it from the Date of its answers. A controller
// stamps its Secrets' expiry on it and reads them back on it, so a step of this node's wall
// clock (an NTP correction, `date -s`, a VM resumed) between a write and a read, or a replica
// on a node whose clock is off, cannot make a token look longer-lived than it is.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace qcp::kube {

class ServerClock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  // Within this the clocks agree: a Date has whole seconds, and the answer takes a while.
  static constexpr std::chrono::seconds kAgreement{2};

  // An answer's Date header (nullopt or malformed: nothing learned), read at `local_now`.
  void observe(const std::optional<std::string>& date, TimePoint local_now);
  // The API server's time when this node's clock says `local_now`: `local_now` itself until
  // an answer said otherwise by more than kAgreement.
  [[nodiscard]] TimePoint now(TimePoint local_now) const;
  // How far the API server's clock is ahead of this node's (negative: behind), whole seconds.
  [[nodiscard]] std::chrono::seconds offset() const { return std::chrono::seconds(offset_); }

 private:
  std::atomic<std::int64_t> offset_{0};
};

}  // namespace qcp::kube

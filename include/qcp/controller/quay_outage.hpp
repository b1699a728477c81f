#pragma once

// Quay unavailable for everyone at once (down, failing or overloaded, not refusing one robot).
// Left to its own backoff, each ServiceAccount would wait up to minutes between tries, and its
// Secret would stay expired that long after Quay is back; tried more often, 10,000 of them would
// hammer a Quay that is down. Instead, once no exchange has succeeded for a probe interval, one
// ServiceAccount at a time retries at that interval (the probe) while the others keep their
// backoff, and the first exchange that succeeds again wakes every one that waited.

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace qcp::controller {

class QuayOutage {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  QuayOutage(std::chrono::milliseconds probe_every, TimePoint started);
  // A quarter of the renewal margin (a token about to expire sees four probes before it does),
  // from 1 s to 30 s.
  static std::chrono::milliseconds probe_interval(std::chrono::seconds renew_before);

  // `key`'s exchange found Quay unavailable at `now`; its backoff says try again at `due`.
  // When to try it: `due`, or sooner when it is the one to probe Quay for all.
  TimePoint unavailable(const std::string& key, TimePoint now, TimePoint due);
  // An exchange for `key` succeeded at `now`. The keys to try again at once: after an outage
  // (no exchange succeeded for a probe interval), every one that waited for Quay; else none.
  std::vector<std::string> answered(const std::string& key, TimePoint now);
  // `key` needs no exchange any more (its ServiceAccount is gone or names no robot).
  void forget(const std::string& key);
  // The ServiceAccounts whose last exchange found Quay unavailable.
  [[nodiscard]] std::size_t waiting() const;

 private:
  std::chrono::milliseconds probe_every_;
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> waiting_;
  TimePoint last_answer_;  // the last exchange that succeeded (or the start)
  std::string probe_;      // the key that probes, until probe_due_ (plus an interval of grace)
  TimePoint probe_due_;
};

}  // namespace qcp::controller

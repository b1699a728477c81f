#pragma once

// The scale benchmark's Quay outage (--quay-outage S): once the controller has synced, Quay
// resets every exchange for S seconds, longer than a token lives, so every Secret expires. What
// reached Quay meanwhile (the probe's bound: about one exchange per probe interval, not one per
// ServiceAccount per backoff), and how long after Quay came back every Secret held a valid
// token again.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "fake_kube_api.hpp"

namespace qcp::bench {

// The fake Quay's handler asks it about each exchange.
class QuayOutageSwitch {
 public:
  // true: refuse this exchange (Quay is down), counted.
  bool refuse() {
    if (!down_) {
      return false;
    }
    ++refused_;
    return true;
  }
  void set_down(bool down) { down_ = down; }
  [[nodiscard]] std::size_t refused() const { return refused_.load(); }

 private:
  std::atomic<bool> down_{false};
  std::atomic<std::size_t> refused_{0};
};

struct OutageFigures {
  double seconds = 0;
  std::vector<std::size_t> refused_per_minute;
  std::size_t expired_at_return = 0;  // Secrets whose token had expired when Quay came back
  double all_valid_after = -1;        // seconds after Quay came back; -1: not within the limit
};

// `secrets`: each managed Secret as (namespace, name); `quay_host` keys their auths.
OutageFigures run_quay_outage(QuayOutageSwitch& quay, std::chrono::seconds length,
                              const test::FakeKubeApi& api, const std::string& quay_host,
                              const std::vector<std::pair<std::string, std::string>>& secrets);

void print_outage(const OutageFigures& figures, std::size_t secrets, int token_seconds,
                  std::chrono::seconds renew_before);

}  // namespace qcp::bench

#pragma once
// Waits for what a test expects of a loop running on another thread or process: polls `holds`
// until it is true or `timeout` passes. Generous timeouts cost nothing when the test holds (it
// ends as soon as it does); they matter on the arm64 run, emulated under qemu-user.

#include <chrono>
#include <functional>
#include <thread>

namespace qcp::test {

inline bool eventually(const std::function<bool()>& holds,
                       std::chrono::milliseconds timeout = std::chrono::seconds{45},
                       std::chrono::milliseconds poll = std::chrono::milliseconds{20}) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (holds()) {
      return true;
    }
    std::this_thread::sleep_for(poll);
  }
  return holds();
}

}  // namespace qcp::test

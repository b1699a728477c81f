#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "layers.hpp"
#include "qcp/core/environment.hpp"

// The fake clocks of the tests: FixedClock, which stands still, and SteppedClock, which runs.
namespace qcp::test {

inline constexpr std::int64_t kNow = 1'767'222'000;  // 2025-12-31T23:00:00Z

// Stands still unless slept on; sleeping advances wall and monotonic time alike and is recorded.
// `late` makes every wake-up that much late, as a busy or paused node does.
//
// With Monotonic::kReal, monotonic time is the real steady clock instead (sleeping still records
// and advances wall time): for code that waits on real processes by deadline.
class FixedClock final : public Clock {
 public:
  enum class Monotonic { kFake, kReal };
  explicit FixedClock(std::int64_t epoch_seconds = kNow, Monotonic monotonic = Monotonic::kFake)
      : now_(std::chrono::seconds(epoch_seconds)), real_monotonic_(monotonic == Monotonic::kReal) {}
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return now_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(slept_);
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonic() const override {
    return real_monotonic_ ? std::chrono::steady_clock::now()
                           : std::chrono::steady_clock::time_point{} + slept_;
  }
  void sleep_for(std::chrono::milliseconds duration) const override {
    sleeps.push_back(duration);
    slept_ += duration + late;
  }
  // Time spent inside a request, as a server that answers slowly would cost.
  void advance(std::chrono::microseconds duration) const { slept_ += duration; }
  // The wall clock stepped (an NTP correction, an operator's `date -s`); monotonic time goes on.
  void step_wall(std::chrono::seconds by) { now_ += by; }

  mutable std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::microseconds late{0};

 private:
  std::chrono::system_clock::time_point now_;
  bool real_monotonic_;
  mutable std::chrono::microseconds slept_{0};
};

// The real clocks, with a wall clock that the test may step (an NTP correction, an operator's
// `date -s`) while monotonic time and sleeps go on as they are: for code that runs for real.
class SteppedClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now() + std::chrono::seconds(offset_.load());
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  void sleep_for(std::chrono::milliseconds duration) const override {
    std::this_thread::sleep_for(duration);
  }
  void step_wall(std::chrono::seconds by) { offset_ += by.count(); }

 private:
  std::atomic<std::int64_t> offset_{0};  // seconds the wall clock was stepped by, in all
};

}  // namespace qcp::test

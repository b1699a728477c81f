#include "workload/expiry_alarm.hpp"

#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

ExpiryAlarm::ExpiryAlarm(std::function<void()> on_expiry)
    : on_expiry_(std::move(on_expiry)), thread_([this] { run(); }) {}

ExpiryAlarm::~ExpiryAlarm() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ExpiryAlarm::published(std::chrono::steady_clock::time_point expires,
                            const std::function<void()>& publish) {
  {
    const std::lock_guard lock(mutex_);
    publish();
    expires_ = expires;
  }
  changed_.notify_all();
}

void ExpiryAlarm::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) {
      return;
    }
    if (!expires_) {
      changed_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < *expires_) {
      changed_.wait_until(lock, *expires_);
      continue;
    }
    expires_.reset();
    on_expiry_();  // under the lock: a publication waits for it, never interleaves
  }
}

}  // namespace qcp::workload

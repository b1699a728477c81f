#include "qcp/controller/leader.hpp"

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::controller {
namespace {

std::int64_t ticks(std::chrono::steady_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

LeaderElector::LeaderElector(ApiClient& api, LeaseSettings settings, const Clock& clock, Log& log)
    : api_(api), settings_(std::move(settings)), clock_(clock), log_(log) {}

bool LeaderElector::leading() const {
  const auto renewed = renewed_at_.load();
  const auto deadline =
      std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.renew_deadline).count();
  return renewed != 0 && ticks(clock_.monotonic()) - renewed < deadline;
}

void LeaderElector::run(const StopFlag& stop) {
  bool was_leading = false;
  while (!stop.requested()) {
    bool held = false;
    try {
      held = try_acquire_or_renew();
    } catch (const Failure& failure) {
      log_.warn("leader election: {}", failure.what());
    }
    const bool now_leading = held || leading();
    if (now_leading != was_leading) {
      if (now_leading) {
        log_.info("leader election: this replica ({}) leads; Lease {}/{}", settings_.identity,
                  settings_.namespace_name, settings_.name);
      } else {
        renewed_at_ = 0;
        log_.warn("leader election: the Lease was not renewed within {}; stopped writing",
                  format_human(settings_.renew_deadline));
      }
      was_leading = now_leading;
    }
    stop.wait_for(settings_.retry_period);
  }
  if (leading()) {
    release();
  }
}

bool LeaderElector::try_acquire_or_renew() {
  const auto asked_at = clock_.monotonic();
  const auto path = lease_path(settings_.namespace_name, settings_.name);
  const ApiResponse current = api_.call({.method = "GET",
                                         .path = path,
                                         .body = {},
                                         .content_type = {},
                                         .timeout = settings_.renew_deadline});
  if (current.status == 404) {
    Lease lease;
    lease.meta.name = settings_.name;
    lease.meta.namespace_name = settings_.namespace_name;
    return take(std::move(lease), true, asked_at);
  }
  const auto lease = current.status == 200 ? decode_lease(current.body) : std::nullopt;
  if (!lease) {
    throw Failure(ExitCode::kLookupFailed, api_.refused(current).what());
  }
  if (!observed_ || observed_->holder != lease->holder ||
      observed_->renew_time != lease->renew_time) {
    observed_ = lease;
    observed_at_ = asked_at;
  }
  const auto duration = std::chrono::seconds{lease->duration > 0 ? lease->duration : 1};
  if (!lease->holder.empty() && lease->holder != settings_.identity &&
      asked_at < observed_at_ + duration) {
    renewed_at_ = 0;  // whatever this replica thought: another one holds it now
    return false;
  }
  return take(*lease, false, asked_at);
}

// Writes the Lease as ours (created, renewed, or taken over); true when the API server took it.
bool LeaderElector::take(Lease lease, bool create, std::chrono::steady_clock::time_point asked_at) {
  const std::string now = rfc3339_micro(clock_.now());
  if (lease.holder != settings_.identity) {
    lease.acquire_time = now;
    lease.transitions += create ? 0 : 1;
  }
  lease.holder = settings_.identity;
  lease.duration = settings_.lease_duration.count();
  lease.renew_time = now;
  const ApiResponse written =
      api_.call({.method = create ? "POST" : "PUT",
                 .path = lease_path(settings_.namespace_name, create ? "" : settings_.name),
                 .body = encode_lease(lease),
                 .content_type = "application/json",
                 .timeout = settings_.renew_deadline});
  if (written.status == 409) {
    return false;  // another replica wrote first (09a, 09b)
  }
  auto stored =
      (written.status == 200 || written.status == 201) ? decode_lease(written.body) : std::nullopt;
  if (!stored) {
    throw Failure(ExitCode::kLookupFailed, api_.refused(written).what());
  }
  observed_ = std::move(stored);
  observed_at_ = asked_at;
  renewed_at_ = ticks(asked_at);  // counted from when it was asked, not answered
  return true;
}

// client-go's ReleaseOnCancel: no holder and a one-second duration, so a standby takes it now.
void LeaderElector::release() {
  if (!observed_) {
    return;
  }
  Lease lease = *observed_;
  lease.holder.clear();
  lease.duration = 1;
  lease.renew_time = rfc3339_micro(clock_.now());
  try {
    const ApiResponse written =
        api_.call({.method = "PUT",
                   .path = lease_path(settings_.namespace_name, settings_.name),
                   .body = encode_lease(lease),
                   .content_type = "application/json",
                   .timeout = std::chrono::seconds{2}});
    renewed_at_ = 0;
    if (written.status == 200) {
      log_.info("leader election: Lease {}/{} released", settings_.namespace_name, settings_.name);
    } else {
      log_.warn("leader election: cannot release the Lease: {}", api_.refused(written).what());
    }
  } catch (const Failure& failure) {
    renewed_at_ = 0;
    log_.warn("leader election: cannot release the Lease: {}", failure.what());
  }
}

}  // namespace qcp::controller

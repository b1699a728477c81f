#pragma once

// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package
// does it: a candidate takes the Lease when it is free or its holder has not renewed it for its
// whole duration (timed on this replica's monotonic clock from when the record last changed,
// never from the holder's timestamps, so clock skew between nodes does not matter); the
// leader renews it every retry period and stops leading the moment a renewal has not
// succeeded for the renew deadline, which is shorter than the duration another candidate waits.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/stop_flag.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/lease.hpp"

namespace qcp::controller {

struct LeaseSettings {
  std::string namespace_name;  // the controller's own: its Role grants Leases there only
  std::string name = "quay-credential-provider-controller";
  std::string identity;  // unique per replica: the pod's name and a random suffix
  std::chrono::seconds lease_duration{15};  // client-go's defaults
  std::chrono::seconds renew_deadline{10};
  std::chrono::milliseconds retry_period{2000};
};

class LeaderElector {
 public:
  // `api` must be a client of its own: the controller's writes are fenced by leading().
  LeaderElector(ApiClient& api, LeaseSettings settings, const Clock& clock, Log& log);

  // Campaigns, then renews, until `stop`; then, when leading, gives the Lease up so that
  // another replica takes over at once instead of after its duration.
  void run(const StopFlag& stop);
  // Holds the Lease, renewed within the renew deadline: the fence on every write.
  [[nodiscard]] bool leading() const;

 private:
  bool try_acquire_or_renew();
  bool take(Lease lease, bool create, std::chrono::steady_clock::time_point asked_at);
  void release();

  ApiClient& api_;
  LeaseSettings settings_;
  const Clock& clock_;
  Log& log_;
  // When the last renewal that succeeded was sent (monotonic, ns since epoch; 0: not leading).
  std::atomic<std::int64_t> renewed_at_{0};
  // The last record seen and when it changed (the informer thread's alone).
  std::optional<Lease> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace qcp::controller

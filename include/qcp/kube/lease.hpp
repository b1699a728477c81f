#pragma once

// A coordination.k8s.io/v1 Lease, the lock leader election takes (kube-api/09a-09d): only the
// fields leader election uses.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qcp/kube/namespace.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::kube {

struct Lease {
  ObjectMeta meta;            // name, namespace, resourceVersion (a PUT's precondition)
  std::string holder;         // spec.holderIdentity ("" once released)
  std::int64_t duration = 0;  // spec.leaseDurationSeconds
  std::string acquire_time;   // MicroTime (6 fractional digits, kube-api/09c)
  std::string renew_time;
  std::int64_t transitions = 0;  // spec.leaseTransitions
};

std::optional<Lease> decode_lease(std::string_view json);
// The body of a create (no resourceVersion) or an update (with it: the API server refuses a
// Lease update without one, 09b).
std::string encode_lease(const Lease& lease);
// "/apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]"
std::string lease_path(std::string_view namespace_name, std::string_view name = {});

}  // namespace qcp::kube

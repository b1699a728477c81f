#pragma once

// A pod as a pull-secret controller reads it (kube-api/10a, 10b): who it runs as, the pull
// Secrets it names, whether a controller owns it (and so recreates it), and the images its
// containers cannot pull. And the Eviction that asks the API server to remove it, honouring
// PodDisruptionBudgets (kube-api/10c-10g).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::kube {

// A container waiting because its image could not be pulled.
struct FailedPull {
  std::string image;
  std::string reason;  // ErrImagePull, ImagePullBackOff or ErrImageNeverPull
};

struct Pod {
  ObjectMeta meta;
  std::string service_account;                  // spec.serviceAccountName
  std::vector<std::string> image_pull_secrets;  // spec.imagePullSecrets[].name
  bool controlled = false;  // an ownerReference with controller: true (a ReplicaSet, a Job...)
  std::string phase;
  std::vector<FailedPull> failed_pulls;  // init containers', then containers'
};

std::optional<Pod> decode_pod(std::string_view json);
std::optional<ListPage<Pod>> decode_pod_list(std::string_view json);
std::optional<WatchEvent<Pod>> decode_pod_event(std::string_view line);

// The body of POST .../pods/NAME/eviction (policy/v1, kube-api/10d).
std::string encode_eviction(std::string_view namespace_name, std::string_view name);

}  // namespace qcp::kube

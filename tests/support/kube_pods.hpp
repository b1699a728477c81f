#pragma once
// FakeKubeApi's pods: field selectors as the API server takes them for pods (kube-api/10a), and
// the Eviction subresource (10c-10g).

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "https_server.hpp"
#include "kube_handlers.hpp"
#include "kube_store.hpp"

namespace qcp::test::kube_pods {

// Whether `object` satisfies `selector` ("status.phase=Pending", "a=b,c!=d"); an unsupported
// field label is nullopt with its name in `unsupported` (kube-api/10a: 400).
std::optional<bool> field_selected(const std::string& resource, const nlohmann::json& object,
                                   const std::string& selector, std::string& unsupported);
// The 400 for a field label the resource does not support (kube-api/10a).
Reply unsupported_field(const std::string& label);

// POST .../pods/NAME/eviction: 201 and the pod gone (a Pending pod ignores budgets, 10c, 10g);
// 404 for a missing pod (10f); 400 when the body names another pod. `refuse` (when > 0, taken
// one at a time) answers the 429 of an exhausted PodDisruptionBudget instead (10d).
Reply evict(KubeStore& store, const kube_handlers::Target& target, const std::string& body,
            std::size_t& refuse);

struct PodShape {
  std::vector<std::string> own_pull_secrets;
  std::string image;
  bool controlled = true;
};
// As the ServiceAccount admission plugin admits a pod (kube-api/07a-07c).
std::optional<nlohmann::json> create_pod(KubeStore& store, const std::string& ns,
                                         const std::string& name,
                                         const std::string& service_account, const PodShape& shape);
// The kubelet's status for a pod whose image cannot be pulled (kube-api/10b).
void set_pull_failure(KubeStore& store, const std::string& ns, const std::string& name,
                      const std::string& reason);

// A pod's phase as the kubelet reports it ("Running": it leaves a Pending watch).
void set_phase(KubeStore& store, const std::string& ns, const std::string& name,
               const std::string& phase);

}  // namespace qcp::test::kube_pods

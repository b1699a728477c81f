#include "qcp/kube/pod.hpp"

#include <algorithm>
#include <array>

#include "kube/object_json.hpp"

namespace qcp::kube {
namespace {

using object_json::Json;
using object_json::text_at;

// The waiting reasons the kubelet gives a container whose image it could not pull (10a, 10b).
constexpr std::array<std::string_view, 3> kPullFailures{"ErrImagePull", "ImagePullBackOff",
                                                        "ErrImageNeverPull"};

void add_failed_pulls(const Json& status, std::string_view key, std::vector<FailedPull>& out) {
  const auto statuses = status.find(key);
  if (statuses == status.end() || !statuses->is_array()) {
    return;
  }
  for (const auto& container : *statuses) {
    if (!container.is_object() || !container.contains("state") || !container["state"].is_object() ||
        !container["state"].contains("waiting")) {
      continue;
    }
    const std::string reason = text_at(container["state"]["waiting"], "reason");
    if (std::find(kPullFailures.begin(), kPullFailures.end(), reason) != kPullFailures.end()) {
      out.push_back({.image = text_at(container, "image"), .reason = reason});
    }
  }
}

std::optional<Pod> pod_of(const Json& object) {
  auto meta = object_json::meta_of(object);
  if (!meta) {
    return std::nullopt;
  }
  Pod pod{.meta = std::move(*meta),
          .service_account = {},
          .image_pull_secrets = {},
          .controlled = false,
          .phase = {},
          .failed_pulls = {}};
  if (const auto owners = object["metadata"].find("ownerReferences");
      owners != object["metadata"].end() && owners->is_array()) {
    for (const auto& owner : *owners) {
      pod.controlled = pod.controlled || (owner.is_object() && owner.value("controller", false));
    }
  }
  if (const auto spec = object.find("spec"); spec != object.end() && spec->is_object()) {
    pod.service_account = text_at(*spec, "serviceAccountName");
    if (const auto secrets = spec->find("imagePullSecrets");
        secrets != spec->end() && secrets->is_array()) {
      for (const auto& entry : *secrets) {
        pod.image_pull_secrets.push_back(text_at(entry, "name"));
      }
    }
  }
  if (const auto status = object.find("status"); status != object.end() && status->is_object()) {
    pod.phase = text_at(*status, "phase");
    add_failed_pulls(*status, "initContainerStatuses", pod.failed_pulls);
    add_failed_pulls(*status, "containerStatuses", pod.failed_pulls);
  }
  return pod;
}

}  // namespace

std::optional<Pod> decode_pod(std::string_view json) {
  return pod_of(Json::parse(json, nullptr, false));
}

std::optional<ListPage<Pod>> decode_pod_list(std::string_view json) {
  return object_json::list_of<Pod>(json, pod_of);
}

std::optional<WatchEvent<Pod>> decode_pod_event(std::string_view line) {
  return object_json::event_of<Pod>(line, pod_of);
}

std::string encode_eviction(std::string_view namespace_name, std::string_view name) {
  return Json{{"apiVersion", "policy/v1"},
              {"kind", "Eviction"},
              {"metadata", {{"name", name}, {"namespace", namespace_name}}}}
      .dump();
}

}  // namespace qcp::kube

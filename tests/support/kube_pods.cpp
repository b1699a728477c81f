#include "kube_pods.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>

#include "http_text.hpp"
#include "kube_replies.hpp"

namespace qcp::test::kube_pods {
namespace {

using nlohmann::json;
namespace r = kube_replies;

// The pod field labels the API server serves (pkg/registry/core/pod/strategy.go
// PodToSelectableFields); every resource serves metadata.name and metadata.namespace.
constexpr std::array<std::string_view, 7> kPodFields{
    "metadata.name",           "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
    "spec.serviceAccountName", "spec.schedulerName", "status.phase"};

std::optional<std::string> field_value(const std::string& resource, const json& object,
                                       std::string_view label) {
  const bool generic = label == "metadata.name" || label == "metadata.namespace";
  if (!generic && (resource != "pods" ||
                   std::find(kPodFields.begin(), kPodFields.end(), label) == kPodFields.end())) {
    return std::nullopt;
  }
  const auto dot = label.find('.');
  const std::string section(label.substr(0, dot));
  const std::string field(label.substr(dot + 1));
  const json part = object.value(section, json::object());
  return part.is_object() ? part.value(field, std::string()) : std::string();
}

}  // namespace

std::optional<bool> field_selected(const std::string& resource, const json& object,
                                   const std::string& selector, std::string& unsupported) {
  bool all = true;
  std::size_t start = 0;
  while (start < selector.size()) {
    const auto end = std::min(selector.find(',', start), selector.size());
    const std::string term = selector.substr(start, end - start);
    start = end + 1;
    const auto negated = term.find("!=");
    const auto equals = negated != std::string::npos ? negated : term.find('=');
    const std::string label = term.substr(0, equals);
    std::string wanted = equals == std::string::npos
                             ? ""
                             : term.substr(equals + (negated != std::string::npos ? 2 : 1));
    if (!wanted.empty() && wanted.front() == '=') {
      wanted.erase(0, 1);  // "=="
    }
    const auto value = field_value(resource, object, label);
    if (!value) {
      unsupported = label;
      return std::nullopt;
    }
    all = all && ((*value == wanted) != (negated != std::string::npos));
  }
  return all;
}

Reply unsupported_field(const std::string& label) {
  return r::status(400, "BadRequest", "field label not supported: " + label);
}

Reply evict(KubeStore& store, const kube_handlers::Target& target, const std::string& body,
            std::size_t& refuse) {
  const KubeStore::Key key{"pods", target.namespace_name, target.name};
  auto pod = store.get(key);
  if (!pod) {
    return r::not_found("pods", target.name);
  }
  const auto eviction = json::parse(body, nullptr, false);
  const std::string named =
      eviction.is_object() ? eviction.value(json::json_pointer("/metadata/name"), "") : "";
  if (named != target.name) {
    return r::status(400, "BadRequest", "name in URL does not match name in Eviction object",
                     json::object());
  }
  if (refuse > 0) {
    --refuse;
    return r::status(429, "TooManyRequests",
                     "Cannot evict pod as it would violate the pod's disruption budget.",
                     {{"causes",
                       {{{"reason", "DisruptionBudget"},
                         {"message",
                          "The disruption budget app-pdb needs 1 healthy pods and "
                          "has 1 currently"}}}}});
  }
  // 10c: the pod is marked (DisruptionTarget, deletionTimestamp), then the kubelet removes it.
  json marked = *pod;
  marked["metadata"]["deletionTimestamp"] = rfc3339(std::chrono::system_clock::now());
  json stored;
  store.replace(key, marked, stored);
  store.remove(key);
  return r::object(201, {{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"metadata", json::object()},
                         {"status", "Success"},
                         {"code", 201}});
}

std::optional<json> create_pod(KubeStore& store, const std::string& ns, const std::string& name,
                               const std::string& service_account, const PodShape& shape) {
  const auto account = store.get({"serviceaccounts", ns, service_account});
  if (!account) {
    return std::nullopt;  // the ServiceAccount admission plugin refuses the pod
  }
  json pod = {{"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec",
               {{"serviceAccountName", service_account},
                {"containers", {{{"name", "main"}, {"image", shape.image}}}}}},
              {"status", {{"phase", "Pending"}}}};
  if (shape.controlled) {
    pod["metadata"]["ownerReferences"] = {
        {{"apiVersion", "apps/v1"},
         {"kind", "ReplicaSet"},
         {"name", name + "-rs"},
         {"uid", "0d7b3f0e-5e0a-4c8e-9a51-" + std::string(12, '0')},
         {"controller", true},
         {"blockOwnerDeletion", true}}};
  }
  // kube-api/07a-07c: the ServiceAccount's imagePullSecrets are copied only when the pod names
  // none, duplicates and all, and only now: the pod never gets later ones.
  json secrets = json::array();
  for (const auto& secret : shape.own_pull_secrets) {
    secrets.push_back({{"name", secret}});
  }
  if (secrets.empty()) {
    secrets = account->value("imagePullSecrets", json::array());
  }
  if (!secrets.empty()) {
    pod["spec"]["imagePullSecrets"] = secrets;
  }
  json stored;
  store.create({"pods", ns, name}, pod, stored);
  return stored;
}

void set_pull_failure(KubeStore& store, const std::string& ns, const std::string& name,
                      const std::string& reason) {
  const KubeStore::Key key{"pods", ns, name};
  auto pod = store.get(key);
  if (!pod) {
    return;
  }
  const std::string image = (*pod)["spec"]["containers"][0].value("image", "");
  const std::string runtime = "failed to pull and unpack image \"" + image +
                              "\": failed to resolve reference \"" + image +
                              "\": failed to authorize: failed to fetch anonymous token: "
                              "unexpected status: 401 Unauthorized";
  (*pod)["status"] = {
      {"phase", "Pending"},
      {"containerStatuses",
       {{{"name", "main"},
         {"state",
          {{"waiting",
            {{"reason", reason},
             {"message", reason == "ImagePullBackOff"
                             ? "Back-off pulling image \"" + image + "\": ErrImagePull: " + runtime
                             : runtime}}}}},
         {"ready", false},
         {"restartCount", 0},
         {"image", image},
         {"imageID", ""},
         {"started", false}}}}};
  json stored;
  store.replace(key, *pod, stored);
}

void set_phase(KubeStore& store, const std::string& ns, const std::string& name,
               const std::string& phase) {
  const KubeStore::Key key{"pods", ns, name};
  if (auto pod = store.get(key)) {
    (*pod)["status"]["phase"] = phase;
    json stored;
    store.replace(key, *pod, stored);
  }
}

}  // namespace qcp::test::kube_pods

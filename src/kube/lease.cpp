#include "qcp/kube/lease.hpp"

#include <nlohmann/json.hpp>

namespace qcp::kube {
namespace {

using Json = nlohmann::json;

std::string text_at(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number_at(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

std::optional<Lease> decode_lease(std::string_view json) {
  const auto object = Json::parse(json, nullptr, false);
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return std::nullopt;
  }
  const Json& metadata = object["metadata"];
  const Json spec =
      object.contains("spec") && object["spec"].is_object() ? object["spec"] : Json::object();
  Lease lease;
  lease.meta.name = text_at(metadata, "name");
  lease.meta.namespace_name = text_at(metadata, "namespace");
  lease.meta.uid = text_at(metadata, "uid");
  lease.meta.resource_version = text_at(metadata, "resourceVersion");
  lease.holder = text_at(spec, "holderIdentity");
  lease.duration = number_at(spec, "leaseDurationSeconds");
  lease.acquire_time = text_at(spec, "acquireTime");
  lease.renew_time = text_at(spec, "renewTime");
  lease.transitions = number_at(spec, "leaseTransitions");
  if (lease.meta.name.empty()) {
    return std::nullopt;
  }
  return lease;
}

std::string encode_lease(const Lease& lease) {
  Json metadata = {{"name", lease.meta.name}, {"namespace", lease.meta.namespace_name}};
  if (!lease.meta.resource_version.empty()) {
    metadata["resourceVersion"] = lease.meta.resource_version;
  }
  Json spec = {{"holderIdentity", lease.holder},
               {"leaseDurationSeconds", lease.duration},
               {"leaseTransitions", lease.transitions}};
  if (!lease.acquire_time.empty()) {
    spec["acquireTime"] = lease.acquire_time;
  }
  if (!lease.renew_time.empty()) {
    spec["renewTime"] = lease.renew_time;
  }
  return Json{{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", std::move(metadata)},
              {"spec", std::move(spec)}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string lease_path(std::string_view namespace_name, std::string_view name) {
  std::string path =
      "/apis/coordination.k8s.io/v1/namespaces/" + std::string(namespace_name) + "/leases";
  if (!name.empty()) {
    path += "/" + std::string(name);
  }
  return path;
}

}  // namespace qcp::kube

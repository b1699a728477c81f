#include "qcp/kube/node.hpp"

#include <nlohmann/json.hpp>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

std::string node_kubelet_version(HttpClient& http, const ApiServer& api, std::string_view node_name,
                                 std::chrono::milliseconds timeout) {
  const std::string purpose = "reading Node " + one_line(node_name);
  if (!is_dns_subdomain(node_name)) {
    throw Failure(ExitCode::kUsage, "the node name " + one_line(node_name) +
                                        " is not a Kubernetes object name (a DNS-1123 subdomain)");
  }
  const auto body = get(http, api, "/api/v1/nodes/" + std::string(node_name), timeout, purpose);
  const auto node = nlohmann::json::parse(body, nullptr, false);
  const auto pointer = nlohmann::json::json_pointer("/status/nodeInfo/kubeletVersion");
  if (!node.is_object() || !node.contains("kind") || node["kind"] != "Node" ||
      !node.contains(pointer) || !node[pointer].is_string() ||
      node[pointer].get<std::string>().empty()) {
    throw Failure(ExitCode::kLookupFailed,
                  purpose +
                      ": the API server's answer is not a Node with "
                      "status.nodeInfo.kubeletVersion (has the kubelet registered it?)");
  }
  return node[pointer].get<std::string>();
}

}  // namespace qcp::kube

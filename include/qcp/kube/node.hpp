#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "qcp/core/http.hpp"
#include "qcp/kube/api_server.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// The version the node's kubelet reports for itself in its Node object
// (status.nodeInfo.kubeletVersion, e.g. "v1.36.2"). Only the kubelet of that node (its node
// credentials, under NodeRestriction) and cluster admins may write a Node's status, so no
// process on the node without those credentials can make this answer lie, and reading it
// executes nothing and needs no mount namespace. Throws Failure: kUsage for a name that is no
// Node name, kLookupFailed for what the API server answers (403: the `get nodes` rule).
std::string node_kubelet_version(HttpClient& http, const ApiServer& api, std::string_view node_name,
                                 std::chrono::milliseconds timeout);

}  // namespace qcp::kube

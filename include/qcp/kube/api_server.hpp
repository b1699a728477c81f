#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// Where a pod finds the API server and its own credentials: the kubelet mounts the pod's
// service-account token and the cluster's CA here (kube-api/12-in-cluster-serviceaccount-files).
inline constexpr std::string_view kServiceAccountDirectory =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// The pod's own way to the API server, found as client-go's rest.InClusterConfig finds it:
// https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, a bearer token and the cluster CA.
struct ApiServer {
  std::string base_url;                // "https://10.96.0.1:443", "https://[fd00::1]:443"
  std::string token;                   // the bearer token: never printed, never part of a message
  std::string token_file;              // where the token is re-read from as it rotates ("": never)
  std::string client_certificate_pem;  // or a client certificate (a kubeconfig's)
  std::string client_key_pem;          // and its key: a secret
  TrustStore trust;                    // the cluster's CA bundle, nothing else
};

// Reads the environment's variables and the service-account files in `directory`, checking
// each; throws Failure (kUsage) naming what is missing and why `purpose` needs it. Neither the
// token's bytes nor a piece of them appear in a message.
ApiServer in_cluster_api_server(const Environment& env, std::string_view purpose,
                                std::string_view directory = kServiceAccountDirectory);

// The service-account token in a file, checked: what goes into an Authorization header.
// Throws Failure (kUsage) naming the file, never quoting it.
std::string read_bearer_token(const Environment& env, std::string_view purpose,
                              const std::string& path);

// GET `path` (e.g. "/api/v1/nodes/n1") with the pod's token; the body of a 200 answer. Any
// other answer throws Failure (kLookupFailed) with the API server's own Status message, what
// it means for `purpose`, and the RBAC rule it takes for 403.
std::string get(HttpClient& http, const ApiServer& api, const std::string& path,
                std::chrono::milliseconds timeout, std::string_view purpose);

}  // namespace qcp::kube

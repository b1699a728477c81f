#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/kube/request.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

inline constexpr std::string_view kRobotAnnotation = "quay.io/federated-robot-account";
inline constexpr std::string_view kHostAnnotation = "quay.io/host";

// Who we authenticate as and where: decided from the request before any network call.
struct Identity {
  std::string robot;      // "namespace+shortname": the exchange's and the response's username
  std::string registry;   // the image's host[:port]: the response's auth key
  std::string quay_host;  // host[:port] that receives the exchange (the registry unless allowed)
};

// Quay's own name rule for namespaces and robot short names, joined by '+'.
[[nodiscard]] bool is_valid_robot_name(std::string_view robot);

// The annotations pick the robot and, only where the node allows it, another Quay host.
Identity resolve_identity(const CredentialProviderRequest& request,
                          std::span<const std::string> allowed_hosts);

}  // namespace qcp::quay

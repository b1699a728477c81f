#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/request.hpp"
#include "qcp/quay/account_robots.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/policy.hpp"

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
// "team" of "team+puller".
[[nodiscard]] std::string_view organisation_of(std::string_view robot);

// A service account as a token's `sub` names it: system:serviceaccount:NAMESPACE:NAME.
std::optional<AccountName> account_of_subject(std::string_view subject);

// What the node allows: --allowed-host, and the policy when one is given.
struct AccessRules {
  std::span<const std::string> allowed_hosts;
  const Policy* policy = nullptr;
};

// The robots a request gets, and why.
struct Resolution {
  // One per robot, one robot per Quay organisation; the image's own organisation's first.
  std::vector<Identity> identities;
  std::string rule;        // "rule 2 (policy.yaml:7)"; "" without a policy
  bool defaulted = false;  // the robots are the rule's defaultRobot
};

// The annotations pick the robots and, only where the node allows it, another Quay host; a
// policy also decides which robots those may be. Throws Failure (kBadRequest) naming the
// annotation or the rule that refuses.
Resolution resolve_identities(const CredentialProviderRequest& request, const AccessRules& rules);

}  // namespace qcp::quay

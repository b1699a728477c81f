#include "qcp/quay/identity.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/names.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {
namespace {

// Quay's VALID_USERNAME_REGEX, ^[a-z0-9]+(?:[._-][a-z0-9]+)*$, with its 2-255 length rule; it
// applies to namespaces and to robot short names alike.
bool is_quay_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 255) {
    return false;
  }
  bool previous_was_separator = true;  // no separator first
  for (const char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool separator = c == '.' || c == '_' || c == '-';
    if (!alnum && !(separator && !previous_was_separator)) {
      return false;
    }
    previous_was_separator = separator;
  }
  return !previous_was_separator;
}

const std::string* annotation(const CredentialProviderRequest& request, std::string_view key) {
  const auto it = request.service_account_annotations.find(key);
  return it == request.service_account_annotations.end() || it->second.empty() ? nullptr
                                                                               : &it->second;
}

Failure refused(const std::string& message) {
  return Failure(ExitCode::kBadRequest, message);
}

// The robots the annotation or the policy gives the token's service account; none is refused.
AccountRobots robots_of(const CredentialProviderRequest& request, const Policy* policy) {
  AccountName account;
  if (policy != nullptr) {
    const auto claims = decode_jwt_claims(request.service_account_token);
    auto named = claims ? account_of_subject(claims->sub) : std::nullopt;
    if (!named) {
      throw refused(
          "the service-account token's sub is not system:serviceaccount:NAMESPACE:NAME, "
          "so the policy " +
          policy->path + " cannot tell whose it is");
    }
    account = std::move(*named);
  }
  const std::string_view robot_key =
      policy != nullptr ? policy->robot_annotation : kRobotAnnotation;
  auto decided = robots_for_account(policy, account, annotation(request, robot_key), robot_key);
  if (policy != nullptr && decided.rule == nullptr) {
    throw no_rule_covers(*policy, account);
  }
  if (decided.robots.empty()) {
    throw refused(
        "the service account has no annotation " + std::string(robot_key) +
        (decided.rule != nullptr ? " and " + decided.rule_name + " gives no defaultRobot"
                                 : std::string()) +
        ": annotate it with the Quay robot to use, e.g. \"team+puller\", and list the key in "
        "tokenAttributes.requiredServiceAccountAnnotationKeys");
  }
  return decided;
}

// Where the exchange goes: the image's registry, or the host annotation's pick where the node
// (a rule's quayHosts, else --allowed-host) allows it.
std::string quay_host_of(const CredentialProviderRequest& request, const AccountRobots& decided,
                         std::string_view host_key, const std::string& registry,
                         std::span<const std::string> allowed) {
  const auto* host = annotation(request, host_key);
  if (host != nullptr && !is_valid_host_port(*host)) {
    throw refused("annotation " + std::string(host_key) +
                  " is not a valid host[:port] (no scheme, no path)");
  }
  const std::string chosen = host != nullptr ? *host : registry;
  if (rule_decides_host(decided, chosen)) {
    return chosen;
  }
  // A namespace must not be able to send its pods' tokens to a host of its choosing: only the
  // node's allow-list can widen where the exchange goes.
  if (chosen != registry && std::find(allowed.begin(), allowed.end(), chosen) == allowed.end()) {
    throw refused("annotation " + std::string(host_key) + " asks for \"" + chosen +
                  "\", which is neither the image's registry \"" + registry +
                  "\" nor allowed on this node: add --allowed-host=" + chosen +
                  " to the provider's args in the kubelet's CredentialProviderConfig");
  }
  return chosen;
}

// "team" of "quay.example.com/team/app".
std::string_view image_organisation(std::string_view image) {
  const auto slash = image.find('/');
  if (slash == std::string_view::npos) {
    return {};
  }
  const auto rest = image.substr(slash + 1);
  return rest.substr(0, rest.find('/'));
}

}  // namespace

bool is_valid_robot_name(std::string_view robot) {
  const auto plus = robot.find('+');
  return plus != std::string_view::npos && is_quay_name(robot.substr(0, plus)) &&
         is_quay_name(robot.substr(plus + 1));
}

std::string_view organisation_of(std::string_view robot) {
  return robot.substr(0, robot.find('+'));
}

std::optional<AccountName> account_of_subject(std::string_view subject) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (!subject.starts_with(kPrefix)) {
    return std::nullopt;
  }
  subject.remove_prefix(kPrefix.size());
  const auto colon = subject.find(':');
  if (colon == std::string_view::npos || subject.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  // Kubernetes object names, nothing else: they go into one-line messages as they are.
  if (!is_dns_subdomain(subject.substr(0, colon)) || !is_dns_subdomain(subject.substr(colon + 1))) {
    return std::nullopt;
  }
  return AccountName{std::string(subject.substr(0, colon)), std::string(subject.substr(colon + 1))};
}

Resolution resolve_identities(const CredentialProviderRequest& request, const AccessRules& rules) {
  const AccountRobots decided = robots_of(request, rules.policy);
  Resolution resolution{
      .identities = {}, .rule = decided.rule_name, .defaulted = decided.defaulted};
  const std::string registry = registry_of_image(request.image);
  const std::string_view host_key =
      rules.policy != nullptr ? rules.policy->host_annotation : kHostAnnotation;
  const std::string quay_host =
      quay_host_of(request, decided, host_key, registry, rules.allowed_hosts);
  for (const auto& robot : decided.robots) {
    resolution.identities.push_back({.robot = robot, .registry = registry, .quay_host = quay_host});
  }
  // The image's own organisation's robot first: it is the one this pull needs.
  const auto own = image_organisation(request.image);
  std::stable_partition(
      resolution.identities.begin(), resolution.identities.end(),
      [&](const Identity& identity) { return organisation_of(identity.robot) == own; });
  return resolution;
}

}  // namespace qcp::quay

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

// What decides this request: the keys it reads, the rule that applies (with a policy).
struct Context {
  std::string_view robot_key = kRobotAnnotation;
  std::string_view host_key = kHostAnnotation;
  const PolicyRule* rule = nullptr;
  std::string rule_name;
  std::string account;  // "namespace/name", for messages
};

Context context_of(const CredentialProviderRequest& request, const Policy* policy) {
  Context context;
  if (policy == nullptr) {
    return context;
  }
  context.robot_key = policy->robot_annotation;
  context.host_key = policy->host_annotation;
  const auto claims = decode_jwt_claims(request.service_account_token);
  const auto account = claims ? account_of_subject(claims->sub) : std::nullopt;
  if (!account) {
    throw refused(
        "the service-account token's sub is not system:serviceaccount:NAMESPACE:NAME, "
        "so the policy " +
        policy->path + " cannot tell whose it is");
  }
  context.account = account->namespace_name + "/" + account->name;
  context.rule = find_rule(*policy, account->namespace_name, account->name);
  if (context.rule == nullptr) {
    throw refused("no rule of the policy " + policy->path + " covers the service account " +
                  context.account + ": add a rule for namespace " + account->namespace_name +
                  " to let it use a robot");
  }
  context.rule_name = rule_name(*policy, *context.rule);
  return context;
}

// The annotation's robots, or the rule's default; each a valid name the rule allows, one per
// organisation.
std::vector<std::string> robots_of(const CredentialProviderRequest& request, const Context& c,
                                   bool& defaulted) {
  const auto* text = annotation(request, c.robot_key);
  if (text == nullptr) {
    if (c.rule != nullptr && !c.rule->default_robots.empty()) {
      defaulted = true;
      return c.rule->default_robots;
    }
    throw refused(
        "the service account has no annotation " + std::string(c.robot_key) +
        (c.rule != nullptr ? " and " + c.rule_name + " gives no defaultRobot" : std::string()) +
        ": annotate it with the Quay robot to use, e.g. \"team+puller\", and list the key in "
        "tokenAttributes.requiredServiceAccountAnnotationKeys");
  }
  auto robots = split_robots(*text);
  if (robots.size() > kMaxRobotsPerAccount) {
    throw refused("annotation " + std::string(c.robot_key) + " names more than " +
                  std::to_string(kMaxRobotsPerAccount) + " robots");
  }
  std::vector<std::string_view> organisations;
  for (const auto& robot : robots) {
    if (!is_valid_robot_name(robot)) {  // not echoed: it could be anything, a token too
      throw refused("annotation " + std::string(c.robot_key) +
                    " is not a Quay robot name or a comma-separated list of them: expected "
                    "\"<namespace>+<robot>\" in lowercase letters, digits, '.', '_', '-' (e.g. "
                    "\"team+puller\")");
    }
    if (std::find(organisations.begin(), organisations.end(), organisation_of(robot)) !=
        organisations.end()) {
      throw refused("annotation " + std::string(c.robot_key) +
                    " names two robots of the "
                    "organisation " +
                    std::string(organisation_of(robot)) +
                    ": one robot per organisation (the kubelet could use only one of them)");
    }
    organisations.push_back(organisation_of(robot));
    if (c.rule != nullptr && !rule_allows_robot(*c.rule, robot)) {
      throw refused("the robot " + robot + " is not allowed for the service account " + c.account +
                    " by " + c.rule_name);
    }
  }
  return robots;
}

// Where the exchange goes: the image's registry, or the host annotation's pick where the node
// (a rule's quayHosts, else --allowed-host) allows it.
std::string quay_host_of(const CredentialProviderRequest& request, const Context& c,
                         const std::string& registry, std::span<const std::string> allowed) {
  const auto* host = annotation(request, c.host_key);
  if (host != nullptr && !is_valid_host_port(*host)) {
    throw refused("annotation " + std::string(c.host_key) +
                  " is not a valid host[:port] (no scheme, no path)");
  }
  const std::string chosen = host != nullptr ? *host : registry;
  if (c.rule != nullptr && !c.rule->quay_hosts.empty()) {
    const auto& hosts = c.rule->quay_hosts;
    if (std::find(hosts.begin(), hosts.end(), chosen) == hosts.end()) {
      throw refused("the Quay host " + chosen + " is not among the quayHosts of " + c.rule_name +
                    " for the service account " + c.account);
    }
    return chosen;
  }
  // A namespace must not be able to send its pods' tokens to a host of its choosing: only the
  // node's allow-list can widen where the exchange goes.
  if (chosen != registry && std::find(allowed.begin(), allowed.end(), chosen) == allowed.end()) {
    throw refused("annotation " + std::string(c.host_key) + " asks for \"" + chosen +
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
  const Context context = context_of(request, rules.policy);
  Resolution resolution{.identities = {}, .rule = context.rule_name};
  const auto robots = robots_of(request, context, resolution.defaulted);
  const std::string registry = registry_of_image(request.image);
  const std::string quay_host = quay_host_of(request, context, registry, rules.allowed_hosts);
  for (const auto& robot : robots) {
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

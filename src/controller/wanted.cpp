#include <algorithm>

#include "controller/api_calls.hpp"
#include "qcp/controller/provision.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/account_robots.hpp"

namespace qcp::controller {
namespace {

constexpr std::string_view kDefaultSuffix = "-quay-pull";

const std::string* annotation(const ServiceAccount& account, std::string_view key) {
  const auto it = account.meta.annotations.find(key);
  return it == account.meta.annotations.end() ? nullptr : &it->second;
}

// Where this service account's tokens may go: a rule's quayHosts where the policy lists them;
// else --quay-host, or the host annotation where the controller's own allow-list names it (a
// namespace never widens it).
std::string quay_host_for(const ServiceAccount& account, const ProvisionSettings& settings,
                          const quay::AccountRobots& decided, std::string_view host_key) {
  const auto* host = annotation(account, host_key);
  if (host != nullptr && !host->empty() && !is_valid_host_port(*host)) {
    // Not echoed: an annotation could hold anything, a token pasted by mistake too.
    throw Failure(ExitCode::kUsage, who(account) + ": annotation " + std::string(host_key) +
                                        " is not a valid host[:port] (no scheme, no path)");
  }
  const std::string chosen = host == nullptr || host->empty() ? settings.quay_host : *host;
  if (decided.rule != nullptr && !decided.rule->quay_hosts.empty()) {
    try {
      quay::rule_decides_host(decided, chosen);
    } catch (const Failure& failure) {
      throw NotAllowed(who(account) + ": " + failure.what());
    }
    return chosen;
  }
  if (chosen != settings.quay_host &&
      std::find(settings.allowed_hosts.begin(), settings.allowed_hosts.end(), chosen) ==
          settings.allowed_hosts.end()) {
    throw Failure(ExitCode::kUsage, who(account) + ": annotation " + std::string(host_key) +
                                        " asks for \"" + one_line(chosen) +
                                        "\", which is neither --quay-host \"" + settings.quay_host +
                                        "\" nor allowed: add --allowed-host=" + one_line(chosen) +
                                        " to the controller's args");
  }
  return chosen;
}

// The robots the annotation names, or the policy's rule gives (empty: none asked).
quay::AccountRobots robots_for(const ServiceAccount& account, const Policy* policy,
                               std::string_view robot_key) {
  const auto* text = annotation(account, robot_key);
  const std::string* named = text != nullptr && !text->empty() ? text : nullptr;
  const quay::AccountName name{account.meta.namespace_name, account.meta.name};
  try {
    quay::robots_for_account(nullptr, name, named, robot_key);  // the annotation's own mistakes
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kUsage, who(account) + ": " + failure.what());
  }
  try {
    return quay::robots_for_account(policy, name, named, robot_key);
  } catch (const Failure& failure) {
    throw NotAllowed(who(account) + ": " + failure.what());
  }
}

}  // namespace

std::string Wanted::robots() const {
  std::string joined;
  for (const auto& identity : identities) {
    joined += (joined.empty() ? "" : ",") + identity.robot;
  }
  return joined;
}

std::optional<Wanted> wanted_for(const ServiceAccount& account, const ProvisionSettings& settings) {
  const auto policy = settings.policy ? settings.policy->current() : nullptr;
  const std::string_view robot_key = policy ? policy->robot_annotation : kRobotAnnotation;
  const auto decided = robots_for(account, policy.get(), robot_key);
  if (decided.robots.empty()) {
    return std::nullopt;
  }
  const std::string host =
      quay_host_for(account, settings, decided, policy ? policy->host_annotation : kHostAnnotation);
  const auto* custom = annotation(account, kSecretNameAnnotation);
  std::string name = custom != nullptr ? *custom : account.meta.name + std::string(kDefaultSuffix);
  if (!is_dns_subdomain(name)) {
    throw Failure(ExitCode::kUsage, who(account) + ": the Secret name \"" + one_line(name) +
                                        "\" is no Kubernetes object name; set the annotation " +
                                        std::string(kSecretNameAnnotation) + " to one");
  }
  // Image references name the registry; it is Quay's own host unless --registry says otherwise
  // (and always the host an annotation picks).
  const std::string registry =
      host == settings.quay_host && !settings.registry.empty() ? settings.registry : host;
  Wanted wanted{.identities = {}, .secret_name = std::move(name), .rule = decided.rule_name};
  for (const auto& robot : decided.robots) {
    wanted.identities.push_back({.robot = robot, .registry = registry, .quay_host = host});
  }
  return wanted;
}

}  // namespace qcp::controller

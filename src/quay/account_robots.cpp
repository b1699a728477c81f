#include "qcp/quay/account_robots.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/quay/identity.hpp"

namespace qcp::quay {
namespace {

Failure refused(const std::string& message) {
  return Failure(ExitCode::kBadRequest, message);
}

// Each robot a valid name, one per organisation, allowed by the rule.
void check_robots(const std::vector<std::string>& robots, const AccountRobots& decided,
                  std::string_view robot_key) {
  const std::string key(robot_key);
  if (robots.size() > kMaxRobotsPerAccount) {
    throw refused("annotation " + key + " names more than " + std::to_string(kMaxRobotsPerAccount) +
                  " robots");
  }
  std::vector<std::string_view> organisations;
  for (const auto& robot : robots) {
    if (!is_valid_robot_name(robot)) {  // not echoed: it could be anything, a token too
      throw refused("annotation " + key +
                    " is not a Quay robot name or a comma-separated list of them: expected "
                    "\"<namespace>+<robot>\" in lowercase letters, digits, '.', '_', '-' (e.g. "
                    "\"team+puller\")");
    }
    if (std::find(organisations.begin(), organisations.end(), organisation_of(robot)) !=
        organisations.end()) {
      throw refused("annotation " + key + " names two robots of the organisation " +
                    std::string(organisation_of(robot)) +
                    ": one robot per organisation (the kubelet could use only one of them)");
    }
    organisations.push_back(organisation_of(robot));
    if (decided.rule != nullptr && !rule_allows_robot(*decided.rule, robot)) {
      throw refused("the robot " + robot + " is not allowed for the service account " +
                    decided.account + " by " + decided.rule_name);
    }
  }
}

}  // namespace

Failure no_rule_covers(const Policy& policy, const AccountName& account) {
  return refused("no rule of the policy " + policy.path + " covers the service account " +
                 account.namespace_name + "/" + account.name + ": add a rule for namespace " +
                 account.namespace_name + " to let it use a robot");
}

AccountRobots robots_for_account(const Policy* policy, const AccountName& account,
                                 const std::string* annotation, std::string_view robot_key) {
  AccountRobots decided;
  if (policy != nullptr) {
    decided.account = account.namespace_name + "/" + account.name;
    decided.rule = find_rule(*policy, account.namespace_name, account.name);
    if (decided.rule == nullptr) {
      if (annotation == nullptr) {
        return decided;  // nothing asked, nothing given
      }
      throw no_rule_covers(*policy, account);
    }
    decided.rule_name = rule_name(*policy, *decided.rule);
  }
  if (annotation == nullptr) {
    if (decided.rule != nullptr) {
      decided.robots = decided.rule->default_robots;
      decided.defaulted = !decided.robots.empty();
    }
    return decided;
  }
  auto robots = split_robots(*annotation);
  check_robots(robots, decided, robot_key);
  decided.robots = std::move(robots);
  return decided;
}

bool rule_decides_host(const AccountRobots& decided, const std::string& host) {
  if (decided.rule == nullptr || decided.rule->quay_hosts.empty()) {
    return false;
  }
  const auto& hosts = decided.rule->quay_hosts;
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
    throw refused("the Quay host " + host + " is not among the quayHosts of " + decided.rule_name +
                  " for the service account " + decided.account);
  }
  return true;
}

}  // namespace qcp::quay

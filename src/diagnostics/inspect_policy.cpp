#include "diagnostics/inspect_policy.hpp"

#include "qcp/core/redact.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/quay/identity.hpp"

namespace qcp::diagnostics {
namespace {

std::string listed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + one_line(item);
  }
  return out;
}

void describe_rule(const Policy& policy, const PolicyRule& rule, std::string& out) {
  out += "  robots an annotation may name: " +
         (rule.robots.empty() ? std::string("none") : listed(rule.robots)) + "\n";
  out += "  default robot: " +
         (rule.default_robots.empty()
              ? "none (a service account without " + policy.robot_annotation + " is refused)"
              : listed(rule.default_robots) + " (when the service account has no " +
                    policy.robot_annotation + ")") +
         "\n";
  out += "  Quay hosts: " +
         (rule.quay_hosts.empty() ? std::string("the image's registry, or one --allowed-host "
                                                "names")
                                  : listed(rule.quay_hosts)) +
         "\n";
}

}  // namespace

PolicyVerdict inspect_policy(const Policy& policy, const JwtClaims& claims,
                             std::string_view robot) {
  PolicyVerdict verdict;
  auto& out = verdict.text;
  out += "\nPolicy " + one_line(policy.path) + " (annotations " + policy.robot_annotation + ", " +
         policy.host_annotation + "):\n";
  const auto account = account_of_subject(claims.sub);
  if (!account) {
    verdict.refusals.emplace_back(
        "the token's sub is not system:serviceaccount:NAMESPACE:NAME: the policy cannot apply");
  } else if (const PolicyRule* rule = find_rule(policy, account->namespace_name, account->name);
             rule == nullptr) {
    verdict.refusals.push_back("no rule covers the service account " +
                               one_line(account->namespace_name) + "/" + one_line(account->name) +
                               ": every request of its pods is refused");
  } else {
    out += "  " + rule_name(policy, *rule) + " applies to " + one_line(account->namespace_name) +
           "/" + one_line(account->name) + "\n";
    describe_rule(policy, *rule, out);
    for (const auto& name : robot.empty() ? std::vector<std::string>{} : split_robots(robot)) {
      if (rule_allows_robot(*rule, name)) {
        out += "  robot " + one_line(name) + ": allowed\n";
      } else {
        verdict.refusals.push_back("the robot " + one_line(name) + " is not allowed by " +
                                   rule_name(policy, *rule));
      }
    }
  }
  for (const auto& why : verdict.refusals) {
    out += "problem: " + why + "\n";
  }
  return verdict;
}

}  // namespace qcp::diagnostics

#pragma once

// Which robots one service account gets, decided from its robot annotation and, when a policy
// is given, the policy's first rule that covers it: the one decision the plugin (from the token's
// sub) and the controller (from the ServiceAccount itself) share.

#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/failure.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::quay {

// A service account as a token's `sub` or the API server names it.
struct AccountName {
  std::string namespace_name;
  std::string name;
};

struct AccountRobots {
  std::vector<std::string> robots;   // empty: the annotation names none and no default applies
  bool defaulted = false;            // the robots are the rule's defaultRobot
  const PolicyRule* rule = nullptr;  // nullptr without a policy, or when no rule covers it
  std::string rule_name;             // "rule 2 (policy.yaml:7)"
  std::string account;               // "namespace/name", for messages ("" without a policy)
};

// `annotation` is the robot annotation's value (nullptr: absent or empty). Each robot named
// must be a valid name, one per organisation, at most kMaxRobotsPerAccount, and allowed by the
// rule. Throws Failure (kBadRequest) naming the annotation key `robot_key` or the rule that
// refuses: never the annotation's text, which could be anything.
AccountRobots robots_for_account(const Policy* policy, const AccountName& account,
                                 const std::string* annotation, std::string_view robot_key);

// The refusal (kBadRequest) for a service account no rule of the policy covers.
Failure no_rule_covers(const Policy& policy, const AccountName& account);

// With a rule that lists quayHosts: true when `host` is one of them, and Failure (kBadRequest)
// naming the rule when it is not. False when no rule decides (the node's --allowed-host does).
bool rule_decides_host(const AccountRobots& decided, const std::string& host);

}  // namespace qcp::quay

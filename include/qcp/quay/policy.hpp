#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// The admin's credential policy (docs/policy.md): which robots each service account may use,
// which it gets when it names none, which annotations say so and which Quay hosts receive its
// tokens. Read from the node (the plugin) on every call, so an edit needs no kubelet restart.
struct PolicyRule {
  int line = 0;                               // where the rule starts in its file
  std::vector<std::string> namespaces;        // globs (Go path.Match)
  std::vector<std::string> service_accounts;  // globs; every service account when not given
  std::vector<std::string> robots;            // globs an annotation may name
  std::vector<std::string> default_robots;    // used when the annotation names none
  std::vector<std::string> quay_hosts;        // HOST[:PORT]; empty: as without a policy
};

struct Policy {
  std::string path;  // for messages: "policy.yaml:7"
  std::string robot_annotation;
  std::string host_annotation;
  std::vector<PolicyRule> rules;  // the first that matches applies
};

// Policies are a few KiB; a larger file is a mistake, refused before it is parsed.
inline constexpr std::size_t kMaxPolicyBytes = std::size_t{256} << 10;
// Robots one service account may use at once: one per Quay organisation.
inline constexpr std::size_t kMaxRobotsPerAccount = 16;

// Parses and checks a policy. Throws Failure (kUsage) with one line "PATH:LINE: what is wrong".
Policy parse_policy(std::string_view text, const std::string& path);

// Reads (at most kMaxPolicyBytes) and parses the policy file at `path`: for diagnostics, which
// may run as any user on a copy.
Policy load_policy(const Environment& env, const std::string& path);

// The plugin's read: the policy decides where a privileged process sends tokens, so it is read
// as a private file (never through a final symlink, ours or root's, in a directory no other
// user may change) before it is parsed. Throws Failure (kUsage).
Policy load_node_policy(const std::string& path);

// The first rule whose namespaces and service accounts match, or nullptr.
const PolicyRule* find_rule(const Policy& policy, std::string_view namespace_name,
                            std::string_view service_account);

// "rule 2 (policy.yaml:7)": how messages name a rule.
std::string rule_name(const Policy& policy, const PolicyRule& rule);

// Whether `robot` is one the rule lets an annotation name: a robots glob, or a default robot.
[[nodiscard]] bool rule_allows_robot(const PolicyRule& rule, std::string_view robot);

// A comma-separated robot list as an annotation or defaultRobot gives it, spaces around the
// commas dropped; empty items are kept (as "") so that the caller can refuse them.
std::vector<std::string> split_robots(std::string_view text);

}  // namespace qcp::quay

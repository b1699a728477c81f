#include "qcp/quay/policy.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/private_file.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {
namespace {

bool any_glob_matches(const std::vector<std::string>& globs, std::string_view text) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& glob) {
    return glob_match(glob, text).value_or(false);
  });
}

}  // namespace

Policy load_policy(const Environment& env, const std::string& path) {
  return parse_policy(env.read_file(path, kMaxPolicyBytes), path);
}

Policy load_node_policy(const std::string& path) {
  const auto text = read_private_file(path, "--policy", kMaxPolicyBytes);
  if (!text) {
    throw Failure(ExitCode::kUsage, "cannot read " + path + ": No such file or directory");
  }
  return parse_policy(*text, path);
}

const PolicyRule* find_rule(const Policy& policy, std::string_view namespace_name,
                            std::string_view service_account) {
  for (const PolicyRule& rule : policy.rules) {
    if (any_glob_matches(rule.namespaces, namespace_name) &&
        any_glob_matches(rule.service_accounts, service_account)) {
      return &rule;
    }
  }
  return nullptr;
}

std::string rule_name(const Policy& policy, const PolicyRule& rule) {
  const auto number = static_cast<std::size_t>(&rule - policy.rules.data()) + 1;
  return "rule " + std::to_string(number) + " (" + policy.path + ":" + std::to_string(rule.line) +
         ")";
}

bool rule_allows_robot(const PolicyRule& rule, std::string_view robot) {
  return any_glob_matches(rule.robots, robot) ||
         std::find(rule.default_robots.begin(), rule.default_robots.end(), robot) !=
             rule.default_robots.end();
}

std::vector<std::string> split_robots(std::string_view text) {
  std::vector<std::string> robots;
  const auto trim = [](std::string_view item) {
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    return std::string(item);
  };
  for (;;) {
    const auto comma = text.find(',');
    robots.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) {
      return robots;
    }
    text.remove_prefix(comma + 1);
  }
}

}  // namespace qcp::quay

// The policy file, read strictly: a key we do not know, a value of the wrong type or a rule that
// could never work is an error naming its line, never a rule silently ignored.

#include <algorithm>
#include <initializer_list>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_fields.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::quay {
namespace {

using yaml::Node;
using Kind = Node::Kind;

constexpr std::string_view kPolicyApiVersion = "quay-credential-provider/v1";
constexpr std::string_view kPolicyKind = "CredentialPolicy";

bool is_glob(std::string_view text) {
  return text.find_first_of("*?[\\") != std::string_view::npos;
}

// A Kubernetes annotation key: an optional DNS-subdomain prefix and '/', then a name of at most
// 63 characters, alphanumeric at both ends, '-', '_' and '.' inside.
bool is_annotation_key(std::string_view key) {
  const auto slash = key.rfind('/');
  if (slash != std::string_view::npos && !is_dns_subdomain(key.substr(0, slash))) {
    return false;
  }
  const auto name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  return !name.empty() && name.size() <= 63 && alnum(name.front()) && alnum(name.back()) &&
         std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw Failure(ExitCode::kUsage, path_ + ":" + std::to_string(line) + ": " + what);
  }

  void expect(const Node& node, Kind kind, std::string_view field) const {
    if (!node.is(kind)) {
      fail(node.line, std::string(field) + " must be " + std::string(yaml::describe(kind)) +
                          ", not " + std::string(yaml::describe(node.kind)));
    }
  }

  void only_keys(const Node& mapping, std::initializer_list<std::string_view> known,
                 std::string_view where) const {
    for (const auto& entry : mapping.entries) {
      if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
        fail(entry.key_line, "unknown field " + quoted_text(entry.key) + " in " +
                                 std::string(where) + " (a misspelt field would be ignored)");
      }
    }
  }

  std::string text(const Node& node, std::string_view field) const {
    expect(node, Kind::kString, field);
    if (node.text.empty()) {
      fail(node.line, std::string(field) + " is empty");
    }
    return node.text;
  }

  std::vector<std::string> texts(const Node& node, std::string_view field) const {
    expect(node, Kind::kSequence, field);
    std::vector<std::string> out;
    for (const Node& item : node.items) {
      out.push_back(text(item, std::string(field) + " entry"));
    }
    return out;
  }

  // A list of globs, each well formed (a malformed one would never match).
  std::vector<std::string> globs(const Node& node, std::string_view field) const {
    auto out = texts(node, field);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!glob_match(out[i], "")) {
        fail(node.items[i].line, std::string(field) + " entry " + quoted_text(out[i]) +
                                     " is not a valid glob (an unclosed '[' or a trailing '\\')");
      }
    }
    return out;
  }

 private:
  const std::string& path_;
};

void read_robots(const Reader& reader, const Node& node, PolicyRule& rule) {
  rule.robots = reader.globs(node, "robots");
  for (std::size_t i = 0; i < rule.robots.size(); ++i) {
    const auto& robot = rule.robots[i];
    if (robot.find('+') == std::string::npos || (!is_glob(robot) && !is_valid_robot_name(robot))) {
      reader.fail(node.items[i].line,
                  "robots entry " + quoted_text(robot) +
                      " is not a Quay robot name or glob (\"org+name\", \"org+*\")");
    }
  }
}

void read_default_robots(const Reader& reader, const Node& node, PolicyRule& rule) {
  const auto text = reader.text(node, "defaultRobot");
  rule.default_robots = split_robots(text);
  std::vector<std::string_view> organisations;
  for (const auto& robot : rule.default_robots) {
    if (!is_valid_robot_name(robot)) {
      reader.fail(node.line, "defaultRobot " + quoted_text(robot) +
                                 " is not a Quay robot name (\"org+name\", comma-separated)");
    }
    const auto organisation = std::string_view(robot).substr(0, robot.find('+'));
    if (std::find(organisations.begin(), organisations.end(), organisation) !=
        organisations.end()) {
      reader.fail(node.line, "defaultRobot names two robots of the organisation " +
                                 quoted_text(organisation) + ": one robot per organisation");
    }
    organisations.push_back(organisation);
  }
  if (rule.default_robots.size() > kMaxRobotsPerAccount) {
    reader.fail(node.line,
                "defaultRobot names more than " + std::to_string(kMaxRobotsPerAccount) + " robots");
  }
}

void read_hosts(const Reader& reader, const Node& node, PolicyRule& rule) {
  rule.quay_hosts = reader.texts(node, "quayHosts");
  for (std::size_t i = 0; i < rule.quay_hosts.size(); ++i) {
    if (!is_valid_host_port(rule.quay_hosts[i])) {
      reader.fail(node.items[i].line, "quayHosts entry " + quoted_text(rule.quay_hosts[i]) +
                                          " is not HOST[:PORT] (no scheme, no path)");
    }
  }
  if (rule.quay_hosts.empty()) {
    reader.fail(node.line, "quayHosts is empty: leave it out to use the image's registry");
  }
}

PolicyRule read_rule(const Reader& reader, const Node& node) {
  reader.expect(node, Kind::kMapping, "a rule");
  reader.only_keys(node, {"namespaces", "serviceAccounts", "robots", "defaultRobot", "quayHosts"},
                   "a rule");
  PolicyRule rule;
  rule.line = node.line;
  const Node* namespaces = node.find("namespaces");
  if (namespaces == nullptr) {
    reader.fail(node.line, "the rule has no namespaces: give the namespaces it applies to");
  }
  rule.namespaces = reader.globs(*namespaces, "namespaces");
  if (rule.namespaces.empty()) {
    reader.fail(namespaces->line, "namespaces is empty: the rule would apply to nothing");
  }
  rule.service_accounts = {"*"};
  if (const Node* accounts = node.find("serviceAccounts"); accounts != nullptr) {
    rule.service_accounts = reader.globs(*accounts, "serviceAccounts");
  }
  const Node* robots = node.find("robots");
  const Node* default_robot = node.find("defaultRobot");
  if (robots == nullptr && default_robot == nullptr) {
    reader.fail(node.line,
                "the rule gives neither robots nor defaultRobot (write robots: [] to refuse "
                "these service accounts on purpose)");
  }
  if (robots != nullptr) {
    read_robots(reader, *robots, rule);
  }
  if (default_robot != nullptr) {
    read_default_robots(reader, *default_robot, rule);
  }
  if (const Node* hosts = node.find("quayHosts"); hosts != nullptr) {
    read_hosts(reader, *hosts, rule);
  }
  return rule;
}

std::string annotation_key(const Reader& reader, const Node& annotations, std::string_view field,
                           std::string_view fallback) {
  const Node* node = annotations.find(field);
  if (node == nullptr) {
    return std::string(fallback);
  }
  auto key = reader.text(*node, std::string("annotations.") + std::string(field));
  if (!is_annotation_key(key)) {
    reader.fail(node->line, "annotations." + std::string(field) + " " + quoted_text(key) +
                                " is not an annotation key ([prefix/]name)");
  }
  return key;
}

void read_header(const Reader& reader, const Node& root) {
  const Node* api_version = root.find("apiVersion");
  if (api_version == nullptr || !api_version->is(Kind::kString) ||
      api_version->text != kPolicyApiVersion) {
    reader.fail(api_version != nullptr ? api_version->line : root.line,
                "apiVersion must be " + std::string(kPolicyApiVersion));
  }
  const Node* kind = root.find("kind");
  if (kind == nullptr || !kind->is(Kind::kString) || kind->text != kPolicyKind) {
    reader.fail(kind != nullptr ? kind->line : root.line,
                "kind must be " + std::string(kPolicyKind));
  }
}

}  // namespace

Policy parse_policy(std::string_view text, const std::string& path) {
  const Reader reader(path);
  const auto document = yaml::parse(text);
  if (!document.problems.empty()) {
    reader.fail(document.problems.front().line, document.problems.front().message);
  }
  if (document.extra_document_line > 0) {
    reader.fail(document.extra_document_line, "a second document: one policy per file");
  }
  if (!document.root) {
    reader.fail(1, "the file holds no policy");
  }
  const Node& root = *document.root;
  reader.expect(root, Kind::kMapping, "the policy");
  reader.only_keys(root, {"apiVersion", "kind", "annotations", "rules"}, "the policy");
  read_header(reader, root);
  Policy policy{.path = path,
                .robot_annotation = std::string(kRobotAnnotation),
                .host_annotation = std::string(kHostAnnotation),
                .rules = {}};
  if (const Node* annotations = root.find("annotations"); annotations != nullptr) {
    reader.expect(*annotations, Kind::kMapping, "annotations");
    reader.only_keys(*annotations, {"robot", "host"}, "annotations");
    policy.robot_annotation = annotation_key(reader, *annotations, "robot", kRobotAnnotation);
    policy.host_annotation = annotation_key(reader, *annotations, "host", kHostAnnotation);
    if (policy.robot_annotation == policy.host_annotation) {
      reader.fail(annotations->line, "annotations.robot and annotations.host are the same key");
    }
  }
  const Node* rules = root.find("rules");
  if (rules == nullptr) {
    reader.fail(root.line, "the policy has no rules (rules: [] refuses every service account)");
  }
  reader.expect(*rules, Kind::kSequence, "rules");
  for (const Node& item : rules->items) {
    policy.rules.push_back(read_rule(reader, item));
  }
  return policy;
}

}  // namespace qcp::quay

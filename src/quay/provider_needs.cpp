#include "qcp/quay/provider_needs.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/options.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::quay {
namespace {

using yaml::Node;
using Kind = Node::Kind;

// What the policy (when one is checked) asks of tokenAttributes: its annotation keys, and the
// robot key optional where a rule gives a defaultRobot (a required key makes the kubelet skip
// the service accounts without it, so the default would never be used).
struct AnnotationNeeds {
  std::string robot_key{kRobotAnnotation};
  std::string host_key{kHostAnnotation};
  std::string defaulting_rule;  // "rule 2 (policy.yaml:7)"; "" when no rule has a default
};

AnnotationNeeds annotation_needs(const Policy* policy) {
  AnnotationNeeds needs;
  if (policy == nullptr) {
    return needs;
  }
  needs.robot_key = policy->robot_annotation;
  needs.host_key = policy->host_annotation;
  for (const PolicyRule& rule : policy->rules) {
    if (!rule.default_robots.empty()) {
      needs.defaulting_rule = rule_name(*policy, rule);
      break;
    }
  }
  return needs;
}

void check_robot_key(const std::function<bool(std::string_view, std::string_view)>& listed,
                     const AnnotationNeeds& needs, int line, const std::string& field,
                     Findings& f) {
  const std::string& key = needs.robot_key;
  const bool required = listed("requiredServiceAccountAnnotationKeys", key);
  const bool optional = listed("optionalServiceAccountAnnotationKeys", key);
  if (!needs.defaulting_rule.empty()) {
    if (!optional) {
      f.error(line, field + ".optionalServiceAccountAnnotationKeys",
              "must list " + key +
                  " (and requiredServiceAccountAnnotationKeys must not): " + needs.defaulting_rule +
                  " gives a defaultRobot, but the kubelet skips service accounts without a "
                  "required annotation and forwards only listed ones");
    }
    return;
  }
  if (required) {
    return;
  }
  if (optional) {
    f.warn(line, field + ".optionalServiceAccountAnnotationKeys",
           key +
               " is optional: pods of service accounts without it still call the provider "
               "and fail; make it required so the kubelet skips them");
  } else {
    f.error(line, field + ".requiredServiceAccountAnnotationKeys",
            "must list " + key +
                ": the kubelet forwards only listed annotations, and the robot name comes "
                "from it");
  }
}

void check_attributes(const Node& ours, const std::string& path, const AnnotationNeeds& needs,
                      Findings& f) {
  const Node* attributes = present(ours, "tokenAttributes");
  if (attributes == nullptr) {
    f.error(ours.line, join(path, "tokenAttributes"),
            "missing: without it the kubelet sends no service-account token and every lookup "
            "fails; see examples/credential-provider-config-1.34.yaml");
    return;
  }
  if (!attributes->is(Kind::kMapping)) {
    return;
  }
  const std::string field = join(path, "tokenAttributes");
  auto listed = [&](std::string_view key, std::string_view annotation) {
    const Node* list = present(*attributes, key);
    return list != nullptr && list->is(Kind::kSequence) &&
           std::any_of(list->items.begin(), list->items.end(),
                       [&](const Node& item) { return item.text == annotation; });
  };
  const int line = attributes->line;
  check_robot_key(listed, needs, line, field, f);
  if (listed("requiredServiceAccountAnnotationKeys", needs.host_key)) {
    f.warn(line, field + ".requiredServiceAccountAnnotationKeys",
           needs.host_key +
               " is required: service accounts without it get no credentials; list it as "
               "optional");
  }
  const Node* require = present(*attributes, "requireServiceAccount");
  if (require != nullptr && require->is(Kind::kBool) && !require->boolean) {
    f.warn(require->line, field + ".requireServiceAccount",
           "false: pods without a service account (static pods) call the provider without a "
           "token and fail");
  }
}

// The kubelet passes args verbatim and adds env to its own environment: check them with the
// parser the plugin itself uses, so a bad flag is found before the first pull fails. Returns the
// --policy they give ("" for none), or nullopt when they do not parse.
std::optional<std::string> check_arguments(const Node& ours, const std::string& path, Findings& f) {
  Environment env;
  env.is_readable_file = [](const std::string&) { return true; };
  env.is_directory = [](const std::string&) { return true; };
  if (const Node* list = present(ours, "env"); list != nullptr && list->is(Kind::kSequence)) {
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const Node* name = item.is(Kind::kMapping) ? item.find("name") : nullptr;
      const Node* value = item.is(Kind::kMapping) ? item.find("value") : nullptr;
      if (name == nullptr || !name->is(Kind::kString)) {
        continue;
      }
      const auto known = environment_variable_names();
      if (name->text.starts_with("QUAY_CREDENTIAL_PROVIDER_") &&
          std::find(known.begin(), known.end(), name->text) == known.end()) {
        f.error(name->line, index(join(path, "env"), i) + ".name",
                quoted_text(name->text) +
                    " is not a variable this provider reads (see "
                    "docs/configuration.md); it would be ignored");
      }
      env.variables[name->text] = value != nullptr && value->is(Kind::kString) ? value->text : "";
    }
  }
  std::vector<std::string> args;
  for (auto& [arg, line] : f.string_list(ours, "args", path)) {
    static_cast<void>(line);
    args.push_back(std::move(arg));
  }
  const Node* args_node = present(ours, "args");
  const int line = args_node != nullptr ? args_node->line : ours.line;
  try {
    const CommandLine command = parse_command_line(args, env);
    if (!command.run_plugin) {
      f.error(line, join(path, "args"),
              "--help or --version makes the provider print text instead of a response");
    }
    return command.options.policy_file;
  } catch (const Failure& failure) {
    f.error(line, join(path, "args"),
            std::string("the provider would refuse to start: ") + failure.what());
  }
  return std::nullopt;
}

// The policy checked here must be the one the provider reads.
void check_policy_argument(const Node& ours, const std::string& path,
                           const std::optional<std::string>& given, const Policy* policy,
                           Findings& f) {
  const Node* args = present(ours, "args");
  const int line = args != nullptr ? args->line : ours.line;
  if (!given) {
    return;
  }
  if (policy == nullptr && !given->empty()) {
    f.warn(line, join(path, "args"),
           "the provider reads the policy " + *given + ": run check-config --policy " + *given +
               " to check it with these tokenAttributes");
  } else if (policy != nullptr && given->empty()) {
    f.error(line, join(path, "args"),
            "no --policy (or QUAY_CREDENTIAL_PROVIDER_POLICY): the policy " + policy->path +
                " would not be applied; add --policy PATH");
  } else if (policy != nullptr && *given != policy->path) {
    f.warn(line, join(path, "args"),
           "the provider reads the policy " + *given + ", not " + policy->path + " checked here");
  }
}

void check_images(const Node& ours, const std::string& path, const ConfigCheckSettings& settings,
                  Findings& f) {
  std::vector<std::string> patterns;
  if (const Node* list = present(ours, "matchImages");
      list != nullptr && list->is(Kind::kSequence)) {
    for (const auto& item : list->items) {
      patterns.push_back(item.text);
    }
  }
  for (const auto& image : settings.images) {
    const bool matched = std::any_of(patterns.begin(), patterns.end(), [&](const auto& pattern) {
      return match_image(pattern, image);
    });
    if (!matched) {
      const Node* list = present(ours, "matchImages");
      f.error(list != nullptr ? list->line : ours.line, join(path, "matchImages"),
              "no entry matches the image " + quoted_text(image) +
                  ", so the kubelet never calls this provider for it (ports must be listed "
                  "exactly; path globs never match)");
    }
  }
}

}  // namespace

void check_provider_needs(const Node& entry, const std::string& path,
                          const ConfigCheckSettings& settings, Findings& f, const Policy* policy) {
  const Node* ours = &entry;  // the entry that runs this binary
  const auto api_version = f.string_field(*ours, "apiVersion", path);
  if (api_version && !api_version->empty() && *api_version != kRequestV1 &&
      present(*ours, "tokenAttributes") == nullptr) {
    f.error(ours->find("apiVersion")->line, join(path, "apiVersion"),
            "this provider needs credentialprovider.kubelet.k8s.io/v1: older requests carry no "
            "service-account token");
  }
  check_attributes(*ours, path, annotation_needs(policy), f);
  check_policy_argument(*ours, path, check_arguments(*ours, path, f), policy, f);
  check_images(*ours, path, settings, f);
}

namespace {

void add_provider_needs(ConfigCheckSettings& settings, const Policy* policy) {
  settings.provider_needs = [policy](const Node& entry, const std::string& path,
                                     const ConfigCheckSettings& s, Findings& f) {
    check_provider_needs(entry, path, s, f, policy);
  };
}

}  // namespace

ConfigReport check_provider_config(std::span<const ConfigFile> files, ConfigCheckSettings settings,
                                   const Policy* policy) {
  add_provider_needs(settings, policy);
  return check_config(files, settings);
}

ConfigReport check_provider_config(std::string_view text, ConfigCheckSettings settings,
                                   const Policy* policy) {
  add_provider_needs(settings, policy);
  return check_config(text, settings);
}

}  // namespace qcp::quay

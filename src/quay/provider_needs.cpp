#include "qcp/quay/provider_needs.hpp"

#include <algorithm>

#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/options.hpp"

namespace qcp::quay {
namespace {

using yaml::Node;
using Kind = Node::Kind;

void check_attributes(const Node& ours, const std::string& path, Findings& f) {
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
  if (!listed("requiredServiceAccountAnnotationKeys", kRobotAnnotation)) {
    if (listed("optionalServiceAccountAnnotationKeys", kRobotAnnotation)) {
      f.warn(line, field + ".optionalServiceAccountAnnotationKeys",
             std::string(kRobotAnnotation) +
                 " is optional: pods of service accounts without it still call the provider "
                 "and fail; make it required so the kubelet skips them");
    } else {
      f.error(line, field + ".requiredServiceAccountAnnotationKeys",
              "must list " + std::string(kRobotAnnotation) +
                  ": the kubelet forwards only listed annotations, and the robot name comes "
                  "from it");
    }
  }
  if (listed("requiredServiceAccountAnnotationKeys", kHostAnnotation)) {
    f.warn(line, field + ".requiredServiceAccountAnnotationKeys",
           std::string(kHostAnnotation) +
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
// parser the plugin itself uses, so a bad flag is found before the first pull fails.
void check_arguments(const Node& ours, const std::string& path, Findings& f) {
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
  } catch (const Failure& failure) {
    f.error(line, join(path, "args"),
            std::string("the provider would refuse to start: ") + failure.what());
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
                          const ConfigCheckSettings& settings, Findings& f) {
  const Node* ours = &entry;  // the entry that runs this binary
  const auto api_version = f.string_field(*ours, "apiVersion", path);
  if (api_version && !api_version->empty() && *api_version != kRequestV1 &&
      present(*ours, "tokenAttributes") == nullptr) {
    f.error(ours->find("apiVersion")->line, join(path, "apiVersion"),
            "this provider needs credentialprovider.kubelet.k8s.io/v1: older requests carry no "
            "service-account token");
  }
  check_attributes(*ours, path, f);
  check_arguments(*ours, path, f);
  check_images(*ours, path, settings, f);
}

ConfigReport check_provider_config(std::span<const ConfigFile> files,
                                   ConfigCheckSettings settings) {
  settings.provider_needs = check_provider_needs;
  return check_config(files, settings);
}

ConfigReport check_provider_config(std::string_view text, ConfigCheckSettings settings) {
  settings.provider_needs = check_provider_needs;
  return check_config(text, settings);
}

}  // namespace qcp::quay

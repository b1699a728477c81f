#include <algorithm>
#include <set>
#include <string>

#include "kube/config_checker.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/names.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/kube/request.hpp"

// The kubelet's rules for one providers[] entry: its name, matchImages, defaultCacheDuration,
// env and tokenAttributes (with the annotation keys).
namespace qcp::kube {
namespace {

using yaml::Node;
using Kind = Node::Kind;

bool is_dns_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
  return is_dns_label_char(c) || (c >= 'A' && c <= 'Z');
}

// k8s.io/apimachinery IsQualifiedName, applied to the lower-cased key as the kubelet does.
std::optional<std::string> annotation_key_problem(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  std::string_view name = key;
  if (const auto slash = key.find('/'); slash != std::string::npos) {
    const std::string_view prefix = std::string_view(key).substr(0, slash);
    name = std::string_view(key).substr(slash + 1);
    if (prefix.empty()) {
      return "the prefix before '/' must not be empty";
    }
    if (!is_dns_subdomain(prefix)) {
      return "the prefix before '/' must be a DNS subdomain (lower-case letters, digits, '-' and "
             "'.', at most 253 characters)";
    }
  }
  if (name.empty()) {
    return "the name part must not be empty";
  }
  if (name.size() > 63) {
    return "the name part must be at most 63 characters";
  }
  if (name.find('/') != std::string_view::npos) {
    return "a key holds at most one '/'";
  }
  if (!is_alnum(name.front()) || !is_alnum(name.back()) ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; })) {
    return "the name part must start and end with a letter or digit and hold only letters, "
           "digits, '-', '_' and '.'";
  }
  return std::nullopt;
}

}  // namespace

void ConfigChecker::check_provider(const Node& provider, const std::string& path,
                                   bool older_config) {
  if (provider.is(Kind::kNull)) {
    error(provider.line, path, "an empty provider");
    return;
  }
  if (!expect(provider, Kind::kMapping, path)) {
    return;
  }
  static constexpr std::array<std::string_view, 7> kFields = {
      "name", "matchImages", "defaultCacheDuration", "apiVersion",
      "args", "env",         "tokenAttributes"};
  check_fields(provider, path, kFields);

  check_name(provider, path);

  const auto api_version = string_field(provider, "apiVersion", path);
  if (!api_version || api_version->empty()) {
    error(provider.line, join(path, "apiVersion"),
          "missing; use credentialprovider.kubelet.k8s.io/v1");
  } else if (!is_supported_api_version(*api_version)) {
    error(
        provider.find("apiVersion")->line, join(path, "apiVersion"),
        quoted_text(*api_version) + " is not supported; use credentialprovider.kubelet.k8s.io/v1");
  }

  check_match_images(provider, path);
  check_default_cache_duration(provider, path);
  string_list(provider, "args", path);
  check_env(provider, path);

  const Node* attributes = present(provider, "tokenAttributes");
  if (attributes != nullptr) {
    if (older_config) {
      error(provider.find("tokenAttributes")->line, join(path, "tokenAttributes"),
            "only apiVersion kubelet.config.k8s.io/v1 has tokenAttributes");
    }
    if (expect(*attributes, Kind::kMapping, join(path, "tokenAttributes"))) {
      check_token_attributes(*attributes, join(path, "tokenAttributes"), api_version.value_or(""));
    }
  }
}

void ConfigChecker::check_name(const Node& provider, const std::string& path) {
  const Node* node = provider.find("name");
  const int line = node != nullptr ? node->line : provider.line;
  const std::string field = join(path, "name");
  const std::string name = string_field(provider, "name", path).value_or("");
  if (node != nullptr && !node->is(Kind::kString) && !node->is(Kind::kNull)) {
    return;  // the type error is reported
  }
  if (name.empty()) {
    error(line, field, "missing: the kubelet runs <image-credential-provider-bin-dir>/<name>");
    return;
  }
  if (std::find(report_.provider_names.begin(), report_.provider_names.end(), name) !=
      report_.provider_names.end()) {
    error(line, field, "duplicate provider name " + quoted_text(name));
  }
  report_.provider_names.push_back(name);
  if (name == "." || name == "..") {
    error(line, field, "must not be " + quoted_text(name));
  } else if (name.find_first_of("/ ") != std::string::npos) {
    error(line, field,
          quoted_text(name) +
              " must not contain '/' or spaces: it is a file name in "
              "--image-credential-provider-bin-dir");
  } else if (settings_.binary_problem) {
    if (auto problem = settings_.binary_problem(name)) {
      error(line, field, *problem);
    }
  }
}

void ConfigChecker::check_match_images(const Node& provider, const std::string& path) {
  const std::string field = join(path, "matchImages");
  const Node* list = present(provider, "matchImages");
  if (list == nullptr || (list->is(Kind::kSequence) && list->items.empty())) {
    error(list == nullptr ? provider.line : list->line, field,
          "at least one image pattern is required");
  }
  const auto patterns = string_list(provider, "matchImages", path);
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const auto& [pattern, line] = patterns[i];
    const auto verdict = check_match_image(pattern);
    if (verdict.invalid) {
      error(line, index(field, i), quoted_text(pattern) + " is invalid: " + *verdict.invalid);
    } else if (verdict.never_matches) {
      error(line, index(field, i),
            quoted_text(pattern) + " never matches: " + *verdict.never_matches);
    } else if (verdict.unusual) {
      warn(line, index(field, i),
           quoted_text(pattern) + " matches, but " + *verdict.unusual +
               "; write the registry host[:port] alone");
    }
  }
}

void ConfigChecker::check_default_cache_duration(const Node& provider, const std::string& path) {
  const std::string field = join(path, "defaultCacheDuration");
  const Node* value = present(provider, "defaultCacheDuration");
  if (value == nullptr) {
    error(provider.line, field,
          "missing; it is required (e.g. 5m; this provider always returns its own "
          "cacheDuration)");
    return;
  }
  if (!expect(*value, Kind::kString, field)) {
    return;
  }
  const auto duration = parse_go_duration(value->text);
  if (!duration) {
    error(value->line, field,
          quoted_text(value->text) + " is not a duration such as 5m, 30s or 1h30m");
  } else if (duration->count() < 0) {
    error(value->line, field, "must not be negative");
  }
}

void ConfigChecker::check_env(const Node& provider, const std::string& path) {
  const std::string field = join(path, "env");
  const Node* env = present(provider, "env");
  if (env == nullptr || !expect(*env, Kind::kSequence, field)) {
    return;
  }
  static constexpr std::array<std::string_view, 2> kFields = {"name", "value"};
  for (std::size_t i = 0; i < env->items.size(); ++i) {
    const Node& item = env->items[i];
    if (item.is(Kind::kNull) || !expect(item, Kind::kMapping, index(field, i))) {
      continue;
    }
    check_fields(item, index(field, i), kFields);
    string_field(item, "name", index(field, i));
    string_field(item, "value", index(field, i));
  }
}

void ConfigChecker::check_annotation_keys(const Node& attributes, std::string_view key,
                                          const std::string& path, std::set<std::string>& seen) {
  const std::string field = join(path, key);
  std::set<std::string> here;
  for (const auto& [annotation, line] : string_list(attributes, key, path)) {
    if (auto problem = annotation_key_problem(annotation)) {
      error(line, field, quoted_text(annotation) + " is not an annotation key: " + *problem);
    }
    if (!here.insert(annotation).second) {
      error(line, field, "duplicate key " + quoted_text(annotation));
    } else if (!seen.insert(annotation).second) {
      error(line, field,
            quoted_text(annotation) + " is listed as both required and optional; keep one");
    }
  }
}

void ConfigChecker::check_token_attributes(const Node& attributes, const std::string& path,
                                           const std::string& api_version) {
  report_.uses_service_account_tokens = true;
  // cacheType last: a 1.33 kubelet's strict decoder does not know it.
  static constexpr std::array<std::string_view, 5> kFields = {
      "serviceAccountTokenAudience", "requireServiceAccount",
      "requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys", "cacheType"};
  check_fields(attributes, path, std::span(kFields).first(kFields.size() - (is_1_34() ? 0 : 1)));

  const auto audience = string_field(attributes, "serviceAccountTokenAudience", path);
  if (!audience || audience->empty()) {
    error(attributes.line, join(path, "serviceAccountTokenAudience"),
          "missing; name the audience Quay's federation binding expects, e.g. quay");
  }
  if (api_version != kRequestV1) {
    error(attributes.line, path,
          "tokenAttributes needs the provider's apiVersion credentialprovider.kubelet.k8s.io/v1");
  }
  const Node* require = present(attributes, "requireServiceAccount");
  std::optional<bool> require_sa;
  if (require == nullptr) {
    error(attributes.line, join(path, "requireServiceAccount"),
          "missing; it must be set explicitly (true for this provider)");
  } else if (expect(*require, Kind::kBool, join(path, "requireServiceAccount"))) {
    require_sa = require->boolean;
  }
  std::set<std::string> seen;
  check_annotation_keys(attributes, "requiredServiceAccountAnnotationKeys", path, seen);
  check_annotation_keys(attributes, "optionalServiceAccountAnnotationKeys", path, seen);
  const Node* required = present(attributes, "requiredServiceAccountAnnotationKeys");
  if (require_sa == false && required != nullptr && !required->items.empty()) {
    error(require->line, join(path, "requireServiceAccount"),
          "cannot be false when requiredServiceAccountAnnotationKeys is set");
  }

  if (is_1_34()) {
    const auto cache_type = string_field(attributes, "cacheType", path);
    if (!cache_type || cache_type->empty()) {
      error(attributes.line, join(path, "cacheType"),
            "missing: 1.34+ kubelets require ServiceAccount or Token (a 1.33 kubelet instead "
            "rejects the field; check with --kubelet-version=1.33)");
    } else if (*cache_type != "ServiceAccount" && *cache_type != "Token") {
      error(attributes.find("cacheType")->line, join(path, "cacheType"),
            quoted_text(*cache_type) + " is not supported: use ServiceAccount or Token");
    }
  }
}

}  // namespace qcp::kube

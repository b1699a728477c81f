#include "qcp/kube/config_check.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <span>
#include <utility>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_decode.hpp"
#include "qcp/kube/config_fields.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/kube/namespace.hpp"
#include "qcp/kube/request.hpp"

namespace qcp::kube {
namespace {

using yaml::Node;
using Kind = Node::Kind;

constexpr std::string_view kConfigGroup = "kubelet.config.k8s.io/";

// kubelet.config.k8s.io/v1, v1beta1 or v1alpha1 (the request's group has is_supported_api_version).
bool is_config_version(std::string_view text) {
  if (!text.starts_with(kConfigGroup)) {
    return false;
  }
  const auto version = text.substr(kConfigGroup.size());
  return version == "v1" || version == "v1beta1" || version == "v1alpha1";
}

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

class Checker : private Findings {
 public:
  explicit Checker(const ConfigCheckSettings& settings) : settings_(settings) {}

  ConfigReport check(std::span<const ConfigFile> files) {
    // Parsed first, all of them: the kubelet version is inferred from every file.
    std::vector<yaml::Document> documents;
    documents.reserve(files.size());
    std::vector<std::pair<const ConfigFile*, const Node*>> roots;
    for (const auto& file : files) {
      set_file(file.name);
      documents.push_back(parse_kubelet_config(file.text));
      if (const Node* root = usable_root(documents.back())) {
        roots.emplace_back(&file, root);
      }
    }
    infer_generation(roots);
    for (const auto& [file, root] : roots) {
      set_file(file->name);
      check_root(*root);
    }
    // Rules of the merged provider list, reported at the first file's providers.
    if (first_config_ != nullptr) {
      set_file(first_config_file_);
      const Node* providers = first_config_->find("providers");
      const int line = providers != nullptr ? providers->line : first_config_->line;
      if (providers_seen_ == 0) {
        error(line, "providers", "at least one provider is required");
      }
      if (ours_ == nullptr) {
        error(line, "providers",
              "no provider is named " + quoted_text(settings_.provider_name) +
                  ": the kubelet runs <image-credential-provider-bin-dir>/<name>, so name the "
                  "entry after this binary's file name (or pass --provider-name)");
      }
    }
    if (ours_ && settings_.provider_needs) {
      set_file(ours_file_);
      settings_.provider_needs(*ours_, ours_path_, settings_, *this);
    }
    return finish();
  }

 private:
  // Reports what makes a document unusable; the mapping to check, or nullptr.
  const Node* usable_root(const yaml::Document& document) {
    for (const auto& problem : document.problems) {
      // A YAML parser keeps the last of two keys; the kubelet's strict decoder keeps neither.
      error(problem.line, "",
            problem.message + (problem.message.starts_with("duplicate key")
                                   ? "; the kubelet's strict decoder rejects it"
                                   : ""));
    }
    if (!document.problems.empty() && !document.root) {
      return nullptr;  // a syntax error: nothing to check
    }
    if (!document.root || document.root->is(Kind::kNull)) {
      error(0, "", "the file holds no CredentialProviderConfig");
      return nullptr;
    }
    if (document.extra_document_line > 0) {
      error(document.extra_document_line, "",
            "a second YAML document: the kubelet reads only the first one, so put every "
            "provider in it");
    }
    const Node& root = *document.root;
    if (!root.is(Kind::kMapping)) {
      error(root.line, "",
            "the file must hold a mapping (apiVersion, kind, providers), not " +
                std::string(yaml::describe(root.kind)));
      return nullptr;
    }
    return &root;
  }

  ConfigReport finish() {
    report_.findings = take();
    return std::move(report_);
  }

  [[nodiscard]] bool is_1_34() const {
    return report_.kubelet == KubeletGeneration::k1_34_or_later;
  }

  // 1.33 or 1.34+: given, or read off the file, since a config suits only one of them once it
  // uses service-account tokens.
  void infer_generation(std::span<const std::pair<const ConfigFile*, const Node*>> roots) {
    if (settings_.kubelet) {
      report_.kubelet = *settings_.kubelet;
      return;
    }
    bool token_attributes = false;
    bool cache_type = false;
    for (const auto& entry : roots) {
      const Node* providers = entry.second->find("providers");
      if (providers == nullptr) {
        continue;
      }
      for (const auto& provider : providers->items) {
        if (const Node* attributes = provider.find("tokenAttributes");
            attributes != nullptr && attributes->is(Kind::kMapping)) {
          token_attributes = true;
          cache_type = cache_type || attributes->find("cacheType") != nullptr;
        }
      }
    }
    report_.kubelet = token_attributes && !cache_type ? KubeletGeneration::k1_33
                                                      : KubeletGeneration::k1_34_or_later;
  }

  // Strict decoding: every key must be a field of the Go struct, spelled exactly.
  void check_fields(const Node& mapping, const std::string& path,
                    std::span<const std::string_view> fields) {
    for (const auto& entry : mapping.entries) {
      if (std::find(fields.begin(), fields.end(), entry.key) != fields.end()) {
        continue;
      }
      std::string message = "unknown field " + quoted_text(entry.key);
      for (const auto field : fields) {
        if (std::equal(field.begin(), field.end(), entry.key.begin(), entry.key.end(),
                       [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
          message += " (field names are case-sensitive: " + std::string(field) + ")";
        }
      }
      if (entry.key == "cacheType" && !is_1_34()) {
        message =
            "unknown field \"cacheType\": a 1.33 kubelet does not know it (1.34 added it "
            "and requires it); drop it for 1.33, or check with --kubelet-version=1.34";
      }
      error(entry.key_line, join(path, entry.key),
            message + "; the kubelet's strict decoder rejects the file");
    }
  }

  void check_root(const Node& root) {
    const auto api_version = string_field(root, "apiVersion", "");
    const auto kind = string_field(root, "kind", "");
    // The kubelet stops at a wrong kind or group; so do we, rather than list every field of,
    // say, a KubeletConfiguration as unknown.
    if (kind && !kind->empty() && *kind != "CredentialProviderConfig") {
      error(root.find("kind")->line, "kind",
            quoted_text(*kind) +
                " is not CredentialProviderConfig: is this the file given to the "
                "kubelet's --image-credential-provider-config?");
      return;
    }
    if (api_version && !api_version->empty() && !is_config_version(*api_version)) {
      error(root.find("apiVersion")->line, "apiVersion",
            quoted_text(*api_version) +
                " is not a kubelet.config.k8s.io version; use "
                "kubelet.config.k8s.io/v1");
      return;
    }
    if (!api_version || api_version->empty()) {
      error(root.line, "apiVersion", "missing; use kubelet.config.k8s.io/v1");
    }
    if (!kind || kind->empty()) {
      error(root.line, "kind", "missing; use CredentialProviderConfig");
    }
    if (first_config_ == nullptr) {
      first_config_ = &root;
      first_config_file_ = file();
    }
    static constexpr std::array<std::string_view, 3> kFields = {"apiVersion", "kind", "providers"};
    check_fields(root, "", kFields);
    // v1alpha1 and v1beta1 configs decode, but their types have no tokenAttributes.
    const bool older_config = api_version && is_config_version(*api_version) &&
                              *api_version != std::string(kConfigGroup) + "v1";

    const Node* providers = present(root, "providers");
    if (providers != nullptr && expect(*providers, Kind::kSequence, "providers")) {
      for (std::size_t i = 0; i < providers->items.size(); ++i) {
        check_provider(providers->items[i], index("providers", i), older_config);
        note_if_ours(providers->items[i], index("providers", i));
      }
      providers_seen_ += providers->items.size();
    }
  }

  void note_if_ours(const Node& provider, const std::string& path) {
    const Node* name = provider.is(Kind::kMapping) ? provider.find("name") : nullptr;
    if (ours_ == nullptr && name != nullptr && name->is(Kind::kString) &&
        name->text == settings_.provider_name) {
      ours_ = &provider;
      ours_path_ = path;
      ours_file_ = file();
    }
  }

  void check_provider(const Node& provider, const std::string& path, bool older_config) {
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
      error(provider.find("apiVersion")->line, join(path, "apiVersion"),
            quoted_text(*api_version) +
                " is not supported; use credentialprovider.kubelet.k8s.io/v1");
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
        check_token_attributes(*attributes, join(path, "tokenAttributes"),
                               api_version.value_or(""));
      }
    }
  }

  // The kubelet execs <bin-dir>/<name>: a file name, unique among the providers.
  void check_name(const Node& provider, const std::string& path) {
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

  void check_match_images(const Node& provider, const std::string& path) {
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

  void check_default_cache_duration(const Node& provider, const std::string& path) {
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

  void check_env(const Node& provider, const std::string& path) {
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

  void check_annotation_keys(const Node& attributes, std::string_view key, const std::string& path,
                             std::set<std::string>& seen) {
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

  void check_token_attributes(const Node& attributes, const std::string& path,
                              const std::string& api_version) {
    report_.uses_service_account_tokens = true;
    // cacheType last: a 1.33 kubelet's strict decoder does not know it.
    static constexpr std::array<std::string_view, 5> kFields = {
        "serviceAccountTokenAudience", "requireServiceAccount",
        "requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys",
        "cacheType"};
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

  const ConfigCheckSettings& settings_;
  ConfigReport report_;
  std::size_t providers_seen_ = 0;
  const Node* first_config_ = nullptr;  // the first file that is a CredentialProviderConfig
  std::string first_config_file_;
  const Node* ours_ = nullptr;  // the first provider named settings_.provider_name
  std::string ours_path_;
  std::string ours_file_;
};

}  // namespace

bool ConfigReport::ok() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const ConfigFinding& finding) { return !finding.warning; });
}

ConfigReport check_config(std::span<const ConfigFile> files, const ConfigCheckSettings& settings) {
  return Checker(settings).check(files);
}

ConfigReport check_config(std::string_view text, const ConfigCheckSettings& settings) {
  const std::array<ConfigFile, 1> files = {ConfigFile{"", std::string(text)}};
  return Checker(settings).check(files);
}

// "1.33", "v1.34", "1.35.2" -> the generation whose config rules apply.
KubeletGeneration kubelet_generation(std::string_view version, std::string_view command) {
  if (version.starts_with('v')) {
    version.remove_prefix(1);
  }
  int minor = -1;
  if (version.starts_with("1.")) {
    const auto* begin = version.data() + 2;
    const auto* end = version.data() + version.size();
    const auto [stop, error] = std::from_chars(begin, end, minor);
    if (error != std::errc{} || (stop != end && *stop != '.')) {
      minor = -1;
    }
  }
  if (minor < 0) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --kubelet-version must look like 1.34");
  }
  constexpr int kFirstWithTokens = 33;
  if (minor < kFirstWithTokens) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) +
                      ": this provider needs Kubernetes 1.33 or later (service-account "
                      "tokens for credential providers, KEP-4412)");
  }
  return minor == kFirstWithTokens ? KubeletGeneration::k1_33 : KubeletGeneration::k1_34_or_later;
}

}  // namespace qcp::kube

#include "qcp/kube/config_check.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <span>
#include <utility>

#include "kube/config_checker.hpp"
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

}  // namespace

ConfigReport ConfigChecker::check(std::span<const ConfigFile> files) {
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

const Node* ConfigChecker::usable_root(const yaml::Document& document) {
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

ConfigReport ConfigChecker::finish() {
  report_.findings = take();
  return std::move(report_);
}

void ConfigChecker::infer_generation(
    std::span<const std::pair<const ConfigFile*, const Node*>> roots) {
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

void ConfigChecker::check_fields(const Node& mapping, const std::string& path,
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

void ConfigChecker::check_root(const Node& root) {
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

void ConfigChecker::note_if_ours(const Node& provider, const std::string& path) {
  const Node* name = provider.is(Kind::kMapping) ? provider.find("name") : nullptr;
  if (ours_ == nullptr && name != nullptr && name->is(Kind::kString) &&
      name->text == settings_.provider_name) {
    ours_ = &provider;
    ours_path_ = path;
    ours_file_ = file();
  }
}

bool ConfigReport::ok() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const ConfigFinding& finding) { return !finding.warning; });
}

ConfigReport check_config(std::span<const ConfigFile> files, const ConfigCheckSettings& settings) {
  return ConfigChecker(settings).check(files);
}

ConfigReport check_config(std::string_view text, const ConfigCheckSettings& settings) {
  const std::array<ConfigFile, 1> files = {ConfigFile{"", std::string(text)}};
  return ConfigChecker(settings).check(files);
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

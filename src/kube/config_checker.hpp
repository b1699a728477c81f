#pragma once

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/config_fields.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// One pass of the kubelet's rules over a CredentialProviderConfig's files, reporting into
// Findings. The rules of the files and the merged provider list are in config_check.cpp; those of
// one provider entry in provider_rules.cpp.
class ConfigChecker : private Findings {
  using Node = yaml::Node;
  using Kind = Node::Kind;

 public:
  explicit ConfigChecker(const ConfigCheckSettings& settings) : settings_(settings) {}

  ConfigReport check(std::span<const ConfigFile> files);

 private:
  // Reports what makes a document unusable; the mapping to check, or nullptr.
  const Node* usable_root(const yaml::Document& document);

  ConfigReport finish();

  [[nodiscard]] bool is_1_34() const {
    return report_.kubelet == KubeletGeneration::k1_34_or_later;
  }

  // 1.33 or 1.34+: given, or read off the file, since a config suits only one of them once it
  // uses service-account tokens.
  void infer_generation(std::span<const std::pair<const ConfigFile*, const Node*>> roots);

  // Strict decoding: every key must be a field of the Go struct, spelled exactly.
  void check_fields(const Node& mapping, const std::string& path,
                    std::span<const std::string_view> fields);

  void check_root(const Node& root);

  void note_if_ours(const Node& provider, const std::string& path);

  void check_provider(const Node& provider, const std::string& path, bool older_config);

  // The kubelet execs <bin-dir>/<name>: a file name, unique among the providers.
  void check_name(const Node& provider, const std::string& path);

  void check_match_images(const Node& provider, const std::string& path);

  void check_default_cache_duration(const Node& provider, const std::string& path);

  void check_env(const Node& provider, const std::string& path);

  void check_annotation_keys(const Node& attributes, std::string_view key, const std::string& path,
                             std::set<std::string>& seen);

  void check_token_attributes(const Node& attributes, const std::string& path,
                              const std::string& api_version);

  const ConfigCheckSettings& settings_;
  ConfigReport report_;
  std::size_t providers_seen_ = 0;
  const Node* first_config_ = nullptr;  // the first file that is a CredentialProviderConfig
  std::string first_config_file_;
  const Node* ours_ = nullptr;  // the first provider named settings_.provider_name
  std::string ours_path_;
  std::string ours_file_;
};

}  // namespace qcp::kube

#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"

namespace qcp::core::yaml {
struct Node;
}  // namespace qcp::core::yaml

namespace qcp::kube {
class Findings;

// The kubelet versions whose CredentialProviderConfig rules differ: 1.33 decodes no
// tokenAttributes.cacheType (strict decoding rejects it), 1.34 and later require it.
enum class KubeletGeneration { k1_33, k1_34_or_later };

// "1.33", "v1.34", "1.35.2" -> the generation whose config rules apply. Throws Failure (kUsage)
// "COMMAND: --kubelet-version must look like 1.34", or for a kubelet before 1.33.
KubeletGeneration kubelet_generation(std::string_view version, std::string_view command);

struct ConfigCheckSettings {
  // The provider entry that runs this binary: the kubelet execs <bin-dir>/<name>.
  std::string provider_name = "quay-credential-provider";
  // nullopt: infer from the file (any cacheType means 1.34+, tokenAttributes without it 1.33).
  std::optional<KubeletGeneration> kubelet;
  // Images (as a pod names them, normalized) that our provider must be called for.
  std::vector<std::string> images;
  // When set, asked for every provider name: why <bin-dir>/<name> would fail (the kubelet
  // refuses to start without it), or nullopt.
  std::function<std::optional<std::string>(const std::string& name)> binary_problem;
  // When set, called with the entry named provider_name, after the kubelet's own rules: what the
  // provider needs of its entry beyond them (quay/provider_needs.hpp), reported into `findings`.
  std::function<void(const yaml::Node& entry, const std::string& path,
                     const ConfigCheckSettings& settings, Findings& findings)>
      provider_needs;
};

struct ConfigFinding {
  std::string file;  // the ConfigFile's name
  int line = 0;      // 1-based; 0 when the file as a whole is meant
  std::string path;  // e.g. providers[0].tokenAttributes.cacheType; empty for the document
  std::string message;
  bool warning = false;  // works, but likely not what the operator wants; does not fail the check
};

struct ConfigReport {
  std::vector<ConfigFinding> findings;
  KubeletGeneration kubelet = KubeletGeneration::k1_34_or_later;
  std::vector<std::string> provider_names;
  bool uses_service_account_tokens = false;

  [[nodiscard]] bool ok() const;
};

struct ConfigFile {
  std::string name;
  std::string text;
};

// Validates a CredentialProviderConfig (YAML or JSON) by the kubelet's decoding and validation
// rules, then by what this provider needs to work. Several files are checked as the kubelet
// (1.34+) reads a config directory: each decoded on its own, their providers merged in the order
// given, names unique across them. Never throws on bad input.
ConfigReport check_config(std::span<const ConfigFile> files, const ConfigCheckSettings& settings);

// One file, named "" in the findings.
ConfigReport check_config(std::string_view text, const ConfigCheckSettings& settings);

}  // namespace qcp::kube

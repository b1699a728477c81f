#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_check.hpp"

namespace qcp::install {

// The provider entry the installer writes: what docs/configuration.md recommends, for one kubelet
// generation (tokenAttributes.cacheType only for 1.34+, which requires it and which 1.33 rejects).
struct ProviderSettings {
  std::string name = "quay-credential-provider";
  std::vector<std::string> match_images;  // HOST[:PORT], as given
  std::string audience = "quay";
  KubeletGeneration kubelet = KubeletGeneration::k1_34_or_later;
  std::vector<std::string> args;       // the entry's args, verbatim
  bool service_account_tokens = true;  // tokenAttributes: ours; static-credential-provider's not
  // The annotation keys tokenAttributes lists: the node policy's (install --policy), else ours.
  std::string robot_key = "quay.io/federated-robot-account";
  std::string host_key = "quay.io/host";
  // A policy rule gives a defaultRobot: the robot key is optional, or the kubelet would skip
  // every ServiceAccount without it and the default would never apply.
  bool robot_key_optional = false;
};

enum class ConfigFormat { kYaml, kJson };

// A whole CredentialProviderConfig holding only our provider.
std::string new_config(const ProviderSettings& settings, ConfigFormat format);

// `text` (a config file, YAML or JSON as the kubelet tells them apart) with our provider added
// after the others, or in place of the entry of the same name. Everything else is kept as it is
// written: for YAML the other lines, comments included, are untouched; JSON is rewritten with
// two-space indentation (it has no comments to lose). A shape that cannot be edited faithfully
// (flow-style providers, a providers that is not a list) throws Failure (kUsage) saying why.
std::string with_provider(std::string_view text, const ProviderSettings& settings);

// `text` without the provider named `name` (unchanged when there is none).
std::string without_provider(std::string_view text, std::string_view name);

}  // namespace qcp::install

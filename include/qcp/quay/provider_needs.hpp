#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/config_fields.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::quay {

// What this provider needs of its entry in a CredentialProviderConfig, beyond the kubelet's own
// rules: service-account tokens with the robot annotation, args and env its flag parser accepts,
// and matchImages that cover the images it must serve. With a policy: its annotation keys, listed
// as its rules need them (optional where a rule gives a defaultRobot), and --policy in args.
void check_provider_needs(const yaml::Node& entry, const std::string& path,
                          const ConfigCheckSettings& settings, Findings& findings,
                          const Policy* policy = nullptr);

// check_config (the kubelet's rules), then check_provider_needs on this provider's entry: what
// check-config reports, and what install checks before it writes a config.
ConfigReport check_provider_config(std::span<const ConfigFile> files, ConfigCheckSettings settings,
                                   const Policy* policy = nullptr);
ConfigReport check_provider_config(std::string_view text, ConfigCheckSettings settings,
                                   const Policy* policy = nullptr);

}  // namespace qcp::quay

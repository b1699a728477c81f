#pragma once

#include <string>

#include "diagnostics/config_fields.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/diagnostics/config_check.hpp"

namespace qcp::config {

// What this provider needs of its entry in a CredentialProviderConfig, beyond the kubelet's own
// rules: service-account tokens with the robot annotation, args and env its flag parser accepts,
// and matchImages that cover the images it must serve.
void check_provider_needs(const yaml::Node& entry, const std::string& path,
                          const ConfigCheckSettings& settings, Findings& findings);

}  // namespace qcp::config

#pragma once

#include <string_view>

#include "qcp/core/yaml.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// A config file as the kubelet decodes it: strict JSON when its first non-space byte is '{'
// (a JSON syntax error is then a problem and there is no root), YAML otherwise.
yaml::Document parse_kubelet_config(std::string_view text);

}  // namespace qcp::kube

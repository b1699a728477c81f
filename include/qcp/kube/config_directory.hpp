#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// A kubelet (1.34+, kubernetes#131658) given a directory as --image-credential-provider-config
// reads the entries named *.json, *.yaml or *.yml that its listing says are not directories
// (symlinks included, dangling or not) and merges them in lexicographic order. check-config and
// install both read a directory by this one rule; where the bytes come from is theirs.
bool is_config_file_name(std::string_view name);

// `names` (a directory listing without subdirectories) -> the ones the kubelet reads, in its
// order.
std::vector<std::string> config_directory_entries(std::vector<std::string> names);

}  // namespace qcp::kube

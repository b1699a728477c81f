#pragma once

// install --policy: the node's credential policy, read through the host root as the provider
// (root, exec'd by the kubelet) will read it, and what it asks of our entry.

#include <string>

#include "qcp/core/host_files.hpp"
#include "qcp/install/config_edit.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::install {

// The policy at node path `path`. Refused (Failure kUsage, one line) where the provider would
// refuse it at every pull, and where another user could change it: a symlink, a file that is not
// root's or that group or others may write, a directory that is not root's or that others may
// write without the sticky bit, more than kMaxPolicyBytes, or a policy that does not parse.
Policy read_node_policy(const HostFiles& files, const std::string& path);

// Our entry on that policy: `--policy PATH` in its args, the policy's annotation keys in
// tokenAttributes, the robot's optional when a rule gives a defaultRobot.
void apply_policy(const Policy& policy, ProviderSettings& provider);

}  // namespace qcp::install

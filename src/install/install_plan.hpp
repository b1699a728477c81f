#pragma once

// What an install would do, read off the node without changing it: run once before the lock
// (refusals change nothing, not even a directory's time) and again under it.

#include <optional>
#include <string>

#include "install/install_state.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

struct InstallPlan {
  std::optional<InstallState> recorded;
  std::string config_file;    // where our provider goes (a file of its own in a directory)
  ProviderSettings provider;  // its kubelet generation decided
  std::optional<FileContent> current_config;
  std::string desired_config;
  std::string binary_path;
  std::optional<FileContent> current_binary;
  std::string flags_path;  // "" for generic
  std::optional<FileContent> current_flags;
  std::string desired_flags;
  bool binary_same = false;
  std::string static_binary_path;  // "" unless the static provider is installed too
  std::optional<FileContent> current_static_binary;
  bool static_binary_same = true;
  std::string policy_path;  // "" unless install writes the policy (--policy-source)
  std::optional<FileContent> current_policy;
  bool policy_same = true;
  bool config_same = false;
  bool flags_same = false;

  [[nodiscard]] bool nothing_to_do() const {
    return binary_same && static_binary_same && policy_same && config_same && flags_same &&
           recorded.has_value();
  }
};

// Throws Failure (kUsage) for an install the kubelet would refuse or that conflicts with what
// is installed, before anything is written.
InstallPlan plan_install(const HostFiles& files, const InstallRequest& request);

}  // namespace qcp::install

#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/install/config_edit.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/install/profile.hpp"

namespace qcp::install {

// The node flags install and uninstall share: where the node is, its paths, its profile, and
// how (whether) to restart its kubelet.
struct NodePaths {
  std::string host_root = "/";
  std::string bin_dir;
  std::string config;
  std::string profile = "generic";
};

// --restart-kubelet and how: the same for install and uninstall.
struct RestartOptions {
  bool restart = false;
  std::string unit;
  std::string healthz = "http://127.0.0.1:10248/healthz";
  std::string timeout = "2m";
};

void add_node_paths(CLI::App& app, NodePaths& paths);
void add_restart_options(CLI::App& app, RestartOptions& options);

// The profile, with the node paths it defaults filled in; throws Failure (kUsage).
install::Profile resolve_profile(NodePaths& paths, std::string_view command);

// Node paths are absolute and plain: what the kubelet's flags hold. Throws Failure (kUsage).
void check_node_paths(const NodePaths& paths, std::string_view command);

// The restart step install and uninstall run after a change, or none; throws Failure (kUsage)
// for bad settings or a node out of reach, before anything is written.
std::function<std::string()> restarter(const RestartOptions& options, install::Profile profile,
                                       const NodePaths& paths, std::string_view command);

// A path the kubelet's provider will be given (--policy, --static-credentials-dir): absolute,
// one line, no "..". Throws Failure (kUsage) naming `flag`.
void check_node_path(const std::string& path, std::string_view flag);

// --static-credentials-dir and --static-match-image: both or neither; the static provider's
// entry, or nullopt when neither is given. Throws Failure (kUsage).
std::optional<ProviderSettings> static_provider(const std::string& credentials_dir,
                                                const std::vector<std::string>& match_images);

// --audience and --match-image as the kubelet will need them. Throws Failure (kUsage).
void check_provider_flags(const ProviderSettings& provider);

// --policy-source FILE (a file of this container's): its bytes and name into `request`, the
// policy checked first. Throws Failure (kUsage) "install: --policy-source FILE:LINE: ...".
void read_policy_source(const std::string& source, const Environment& env, InstallRequest& request);

}  // namespace qcp::install

#include "install/node_options.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/host_files.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/install/kubelet_restart.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/quay/policy.hpp"
#include "qcp/version.hpp"

namespace qcp::install {
namespace {

std::string kubelet_unit(const RestartOptions& options, install::Profile profile,
                         const HostFiles& files) {
  if (!options.unit.empty()) {
    return options.unit;
  }
  if (profile != install::Profile::kK3s) {
    return "kubelet";
  }
  // The k3s installer names the unit after the role it installs.
  for (const char* directory : {"/etc/systemd/system", "/usr/lib/systemd/system"}) {
    if (files.status(join_path(directory, "k3s-agent.service")).kind == FileKind::kRegular) {
      return "k3s-agent";
    }
  }
  return "k3s";
}

// "/a/./b", "/a/../b": the kubelet would resolve them, but what install records and compares
// must be one spelling of a path.
bool has_dot_component(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto part = path.substr(start, end - start);
    if (part == "." || part == "..") {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

void add_node_paths(CLI::App& app, NodePaths& paths) {
  app.add_option("--profile", paths.profile,
                 "The kind of node: kubeadm, kind or k3s give --bin-dir and --config defaults "
                 "and get the kubelet's flags written where they read them; generic only "
                 "reports the flags")
      ->type_name("kubeadm|kind|k3s|generic")
      ->capture_default_str();
  app.add_option("--host-root", paths.host_root,
                 "Where the node's file system is seen (/host in the DaemonSet); every other "
                 "path is a path on the node")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--bin-dir", paths.bin_dir,
                 "The kubelet's --image-credential-provider-bin-dir (default: the profile's)")
      ->type_name("PATH");
  app.add_option("--config", paths.config,
                 "The kubelet's --image-credential-provider-config: a file, or (1.34+) a "
                 "directory (default: the profile's)")
      ->type_name("PATH");
}

void add_restart_options(CLI::App& app, RestartOptions& options) {
  app.add_flag("--restart-kubelet", options.restart,
               "After a change, restart the kubelet through the node's systemd and wait for its "
               "healthz; if it does not get healthy, put everything back and restart it again");
  app.add_option("--kubelet-unit", options.unit,
                 "The kubelet's systemd unit (default: kubelet; k3s: k3s or k3s-agent, as the "
                 "node has)")
      ->type_name("UNIT");
  app.add_option("--kubelet-healthz", options.healthz, "Where the kubelet answers health checks")
      ->type_name("URL")
      ->capture_default_str();
  app.add_option("--restart-timeout", options.timeout,
                 "How long the restart and the first healthy answer may take")
      ->type_name("DURATION")
      ->capture_default_str();
}

install::Profile resolve_profile(NodePaths& paths, std::string_view command) {
  const auto profile = install::parse_profile(paths.profile);
  if (!profile) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --profile must be kubeadm, kind, k3s or generic");
  }
  const auto defaults = install::profile_defaults(*profile);
  for (const auto& [flag, path, fallback] :
       {std::tuple{"--bin-dir", &paths.bin_dir, defaults.bin_dir},
        std::tuple{"--config", &paths.config, defaults.config}}) {
    if (path->empty() && fallback.empty()) {
      throw Failure(ExitCode::kUsage,
                    std::string(command) + ": " + flag + " is required with --profile generic");
    }
    if (path->empty()) {
      *path = fallback;
    }
  }
  return *profile;
}

std::function<std::string()> restarter(const RestartOptions& options, install::Profile profile,
                                       const NodePaths& paths, std::string_view command) {
  if (!options.restart) {
    return {};
  }
  const auto healthz = install::parse_healthz_url(options.healthz);
  if (!healthz) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --kubelet-healthz must be http://IPv4:PORT/PATH");
  }
  const auto timeout = parse_go_duration(options.timeout);
  if (!timeout || *timeout < std::chrono::seconds{5} || *timeout > std::chrono::minutes{30}) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --restart-timeout must be from 5s to 30m");
  }
  const RootedFiles files(paths.host_root);
  if (options.unit.find_first_of(" \t/") != std::string::npos ||
      one_line(options.unit) != options.unit || options.unit.starts_with('-')) {
    throw Failure(ExitCode::kUsage, std::string(command) + ": --kubelet-unit must be a unit name");
  }
  install::RestartSettings settings{
      .unit = kubelet_unit(options, profile, files),
      .healthz = *healthz,
      .timeout = std::chrono::duration_cast<std::chrono::seconds>(*timeout)};
  install::HostNodeCommands(paths.host_root).check_reachable("systemctl");
  return [settings, host_root = paths.host_root] {
    install::HostNodeCommands node(host_root);
    return install::restart_kubelet(node, settings);
  };
}

void check_node_paths(const NodePaths& paths, std::string_view command) {
  for (const auto& [flag, path] :
       {std::pair{"--bin-dir", &paths.bin_dir}, std::pair{"--config", &paths.config}}) {
    if (!path->starts_with('/') || *path == "/" || path->find('\0') != std::string::npos ||
        one_line(*path) != *path || has_dot_component(*path)) {
      throw Failure(ExitCode::kUsage, std::string(command) + ": " + flag +
                                          " must be an absolute path on the node, not /, without "
                                          ". or .. components");
    }
  }
}

// A path the kubelet's provider will be given: absolute, one line, no "..".
void check_node_path(const std::string& path, std::string_view flag) {
  if (!path.starts_with('/') || one_line(path) != path || path.find("/../") != std::string::npos ||
      path.ends_with("/..")) {
    throw Failure(ExitCode::kUsage,
                  "install: " + std::string(flag) + " must be an absolute node path without '..'");
  }
}

// --static-credentials-dir and --static-match-image: both or neither; an absolute, plain node
// path and patterns the kubelet can match.
std::optional<ProviderSettings> static_provider(const std::string& credentials_dir,
                                                const std::vector<std::string>& match_images) {
  if (credentials_dir.empty() && match_images.empty()) {
    return std::nullopt;
  }
  if (credentials_dir.empty() || match_images.empty()) {
    throw Failure(ExitCode::kUsage,
                  "install: --static-credentials-dir and --static-match-image go together");
  }
  const auto& dir = credentials_dir;
  check_node_path(dir, "--static-credentials-dir");
  ProviderSettings settings{.name = std::string(kStaticProgramName),
                            .match_images = match_images,
                            .audience = "",
                            .kubelet = KubeletGeneration::k1_34_or_later,
                            .args = {"--credentials-dir", dir},
                            .service_account_tokens = false,
                            .robot_key = {},
                            .host_key = {},
                            .robot_key_optional = false};
  for (const auto& pattern : settings.match_images) {
    if (!is_match_image_pattern(pattern)) {
      throw Failure(ExitCode::kUsage, "install: --static-match-image " + one_line(pattern) +
                                          " is not HOST[:PORT][/PATH]");
    }
  }
  return settings;
}

void check_provider_flags(const ProviderSettings& provider) {
  if (provider.audience.empty() || one_line(provider.audience) != provider.audience) {
    throw Failure(ExitCode::kUsage, "install: --audience must be a printable, non-empty string");
  }
  for (const auto& pattern : provider.match_images) {
    if (!is_match_image_pattern(pattern)) {
      throw Failure(ExitCode::kUsage,
                    "install: --match-image " + one_line(pattern) +
                        " is not HOST[:PORT][/PATH] (host labels of letters, digits, '-' and '*'): "
                        "the kubelet would never match an image to it");
    }
  }
}

// --policy-source: its bytes, checked before anything is written (and again at each --watch
// pass: a ConfigMap edit reaches the file between passes).
void read_policy_source(const std::string& source, const Environment& env,
                        InstallRequest& request) {
  if (source.empty()) {
    return;
  }
  std::string text;
  try {
    text = env.read_file(source, kMaxPolicyBytes);
    static_cast<void>(parse_policy(text, source));
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kUsage, "install: --policy-source " + std::string(failure.what()));
  }
  request.policy_text = std::move(text);
  request.policy_source = source;
}

}  // namespace qcp::install

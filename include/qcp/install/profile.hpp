#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "qcp/core/host_files.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_check.hpp"  // KubeletGeneration

namespace qcp::install {

// How a kind of node runs its kubelet: where providers go by default, where the kubelet's
// flags are read from, and which systemd unit runs it.
enum class Profile { kGeneric, kKubeadm, kKind, kK3s };

std::optional<Profile> parse_profile(std::string_view name);
std::string_view profile_name(Profile profile);

struct ProfileDefaults {
  std::string bin_dir;  // "" for generic: --bin-dir and --config are then required
  std::string config;
  // The node file install edits so that the kubelet gets the provider flags ("" for generic,
  // which only reports them): kubeadm's flags file, or a k3s config.yaml.d drop-in.
  std::string flags_file;
};

ProfileDefaults profile_defaults(Profile profile);

// What the kubelet must be started with for an install to take effect.
struct KubeletFlags {
  std::string bin_dir;
  std::string config;
  // 1.33 has KubeletServiceAccountTokenForCredentialProviders off by default (alpha): the
  // kubelet refuses tokenAttributes without it. 1.34+ has it on.
  bool enable_token_gate = false;
};

inline constexpr std::string_view kTokenFeatureGate =
    "KubeletServiceAccountTokenForCredentialProviders";

KubeletFlags kubelet_flags_for(const std::string& bin_dir, const std::string& config,
                               KubeletGeneration kubelet);

// The flags file's text with `flags` in it (`current` nullopt: there is none yet), for
// kubeadm/kind (KUBELET_KUBEADM_ARGS in kubeadm-flags.env) or k3s (a drop-in of its own).
// Throws Failure (kUsage) when the file already points the kubelet at another config or bin
// dir, or turns the gate off: replacing those would silently disable another provider.
std::string with_kubelet_flags(Profile profile, const std::optional<std::string>& current,
                               const KubeletFlags& flags);

// k3s merges /etc/rancher/k3s/config.yaml and config.yaml.d/*.yaml, later files winning: our
// drop-in would silently override an image-credential-provider-* setting another file makes
// (another provider's config). Throws Failure (kUsage) when one sets another path.
void check_k3s_settings(const HostFiles& files, const std::string& drop_in,
                        const KubeletFlags& flags);

// The file without the provider flags equal to `flags` (what uninstall does to a flags file
// changed after install); nullopt when nothing of ours is left and the file should go.
std::optional<std::string> without_kubelet_flags(Profile profile, std::string_view current,
                                                 const KubeletFlags& flags);

}  // namespace qcp::install

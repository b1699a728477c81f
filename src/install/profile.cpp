#include "qcp/install/profile.hpp"

#include <array>
#include <sstream>
#include <vector>

#include "install/env_file.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

constexpr std::string_view kConfigFlag = "--image-credential-provider-config";
constexpr std::string_view kBinDirFlag = "--image-credential-provider-bin-dir";
constexpr std::string_view kGatesFlag = "--feature-gates";
constexpr std::string_view kKubeadmVariable = "KUBELET_KUBEADM_ARGS";

constexpr std::array<std::pair<Profile, std::string_view>, 4> kNames{{
    {Profile::kGeneric, "generic"},
    {Profile::kKubeadm, "kubeadm"},
    {Profile::kKind, "kind"},
    {Profile::kK3s, "k3s"},
}};

[[noreturn]] void refuse(const std::string& file, const std::string& why) {
  throw Failure(ExitCode::kUsage, "install: " + file + " " + why);
}

std::string gate_entry(bool on) {
  return std::string(kTokenFeatureGate) + (on ? "=true" : "=false");
}

// Adds or checks one --flag=value word.
void set_flag(std::vector<std::string>& words, std::string_view flag, const std::string& value,
              const std::string& file, std::string_view install_flag) {
  const std::string prefix = std::string(flag) + "=";
  for (const auto& word : words) {
    if (word == flag) {
      refuse(file, "gives " + std::string(flag) + " a separate value: write it as " + prefix +
                       "VALUE so install can check it");
    }
    if (word.starts_with(prefix)) {
      if (word.substr(prefix.size()) != value) {
        refuse(file, "already starts the kubelet with " + word + ": install with " +
                         std::string(install_flag) + " " + word.substr(prefix.size()) +
                         " to add this provider there");
      }
      return;
    }
  }
  words.push_back(prefix + value);
}

void enable_gate(std::vector<std::string>& words, const std::string& file) {
  const std::string prefix = std::string(kGatesFlag) + "=";
  for (auto& word : words) {
    if (!word.starts_with(prefix)) {
      continue;
    }
    if (word.find(gate_entry(false)) != std::string::npos) {
      refuse(file, "turns " + std::string(kTokenFeatureGate) +
                       " off: a 1.33 kubelet then refuses this provider's tokenAttributes");
    }
    if (word.find(gate_entry(true)) == std::string::npos) {
      word += (word.size() > prefix.size() ? "," : "") + gate_entry(true);
    }
    return;
  }
  words.push_back(prefix + gate_entry(true));
}

std::string with_kubeadm_flags(const std::optional<std::string>& current, const KubeletFlags& flags,
                               const std::string& file) {
  const EnvFile env(current.value_or(""), kKubeadmVariable, file);
  auto words = env.words();
  set_flag(words, kConfigFlag, flags.config, file, "--config");
  set_flag(words, kBinDirFlag, flags.bin_dir, file, "--bin-dir");
  if (flags.enable_token_gate) {
    enable_gate(words, file);
  }
  return env.with_words(words);
}

// Quoted for YAML: node paths are plain printable text (install checks them).
std::string yaml_string(const std::string& text) {
  return "\"" + text + "\"";
}

std::string k3s_drop_in(const KubeletFlags& flags) {
  std::string text =
      "# Written by quay-credential-provider install; uninstall removes it.\n"
      "# k3s passes these to its kubelet as --image-credential-provider-bin-dir/-config.\n"
      "image-credential-provider-bin-dir: " +
      yaml_string(flags.bin_dir) +
      "\nimage-credential-provider-config: " + yaml_string(flags.config) + "\n";
  if (flags.enable_token_gate) {
    text += "kubelet-arg+:\n  - " + yaml_string("feature-gates=" + gate_entry(true)) + "\n";
  }
  return text;
}

constexpr std::size_t kMaxK3sConfigBytes = std::size_t{1} << 20;

void check_k3s_file(const std::string& path, std::string_view text, const KubeletFlags& flags) {
  const auto document = yaml::parse(text);
  if (!document.root || !document.root->is(yaml::Node::Kind::kMapping)) {
    return;  // k3s itself reports a file it cannot read
  }
  for (const auto& [key, value] : {std::pair{"image-credential-provider-bin-dir", &flags.bin_dir},
                                   std::pair{"image-credential-provider-config", &flags.config}}) {
    const auto* setting = document.root->find(key);
    if (setting != nullptr && setting->text != *value) {
      refuse(path, "sets " + std::string(key) + ": " + setting->text +
                       ", which k3s would no longer use: install with --" +
                       (value == &flags.bin_dir ? "bin-dir " : "config ") + setting->text +
                       " to add this provider there");
    }
  }
}

}  // namespace

void check_k3s_settings(const HostFiles& files, const std::string& drop_in,
                        const KubeletFlags& flags) {
  const std::string directory = parent_path(drop_in);
  std::vector<std::string> paths{join_path(parent_path(directory), "config.yaml")};
  if (files.status(directory).kind == FileKind::kDirectory) {
    for (const auto& name : files.list(directory)) {
      if (const auto path = join_path(directory, name);
          path != drop_in && (name.ends_with(".yaml") || name.ends_with(".yml"))) {
        paths.push_back(path);
      }
    }
  }
  for (const auto& path : paths) {
    if (const auto content = files.read(path, kMaxK3sConfigBytes)) {
      check_k3s_file(path, content->bytes, flags);
    }
  }
}

std::optional<Profile> parse_profile(std::string_view name) {
  for (const auto& [profile, text] : kNames) {
    if (text == name) {
      return profile;
    }
  }
  return std::nullopt;
}

std::string_view profile_name(Profile profile) {
  for (const auto& [known, text] : kNames) {
    if (known == profile) {
      return text;
    }
  }
  return "generic";
}

ProfileDefaults profile_defaults(Profile profile) {
  switch (profile) {
    case Profile::kKubeadm:
    case Profile::kKind:
      // kind nodes are kubeadm nodes: the same flags file and layout.
      return {.bin_dir = "/etc/kubernetes/image-credential-provider",
              .config = "/etc/kubernetes/image-credential-provider/config.yaml",
              .flags_file = "/var/lib/kubelet/kubeadm-flags.env"};
    case Profile::kK3s:
      // k3s's own defaults for its image-credential-provider-* settings.
      return {.bin_dir = "/var/lib/rancher/credentialprovider/bin",
              .config = "/var/lib/rancher/credentialprovider/config.yaml",
              .flags_file = "/etc/rancher/k3s/config.yaml.d/90-quay-credential-provider.yaml"};
    case Profile::kGeneric:
      break;
  }
  return {.bin_dir = "", .config = "", .flags_file = ""};
}

KubeletFlags kubelet_flags_for(const std::string& bin_dir, const std::string& config,
                               KubeletGeneration kubelet) {
  return {.bin_dir = bin_dir,
          .config = config,
          .enable_token_gate = kubelet == KubeletGeneration::k1_33};
}

std::string with_kubelet_flags(Profile profile, const std::optional<std::string>& current,
                               const KubeletFlags& flags) {
  const std::string file = profile_defaults(profile).flags_file;
  if (profile == Profile::kK3s) {
    return k3s_drop_in(flags);
  }
  return with_kubeadm_flags(current, flags, file);
}

std::optional<std::string> without_kubelet_flags(Profile profile, std::string_view current,
                                                 const KubeletFlags& flags) {
  if (profile == Profile::kK3s) {
    return std::nullopt;  // the drop-in is wholly ours
  }
  const std::string ours_config = std::string(kConfigFlag) + "=" + flags.config;
  const std::string ours_bin_dir = std::string(kBinDirFlag) + "=" + flags.bin_dir;
  const EnvFile env(current, kKubeadmVariable, profile_defaults(profile).flags_file);
  auto words = env.words();
  std::erase_if(
      words, [&](const std::string& word) { return word == ours_config || word == ours_bin_dir; });
  return env.with_words(words);
}

}  // namespace qcp::install

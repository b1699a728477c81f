#include "qcp/install/installer.hpp"

#include <algorithm>

#include "install/install_state.hpp"
#include "install/kubelet_process.hpp"
#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/diagnostics/config_check.hpp"

namespace qcp::install {
namespace {

// The file install writes into a config directory (the kubelet reads *.yaml there, 1.34+).
constexpr const char* kConfigFileName = "quay-credential-provider.yaml";
// What the kubelet reads of one config file is not bounded, but a config is a few KiB.
constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;

struct ConfigTarget {
  std::string file;       // the file our provider goes into
  std::string directory;  // the config directory holding it, when --config is one
};

ConfigTarget config_target(const HostFiles& files, const std::string& config) {
  const auto status = files.status(config);
  if (status.kind == FileKind::kDirectory) {
    return {join_path(config, kConfigFileName), config};
  }
  if (status.kind == FileKind::kOther) {
    throw Failure(ExitCode::kUsage,
                  "install: --config " + config + " is neither a file nor a directory");
  }
  return {config, ""};
}

bool is_config_name(std::string_view name) {
  return name.ends_with(".json") || name.ends_with(".yaml") || name.ends_with(".yml");
}

// The config files the kubelet reads, with `file` given `text` (or left out when nullopt).
std::vector<ConfigFile> config_files(const HostFiles& files, const ConfigTarget& target,
                                     const std::optional<std::string>& text) {
  std::vector<ConfigFile> result;
  if (target.directory.empty()) {
    if (text) {
      result.push_back({target.file, *text});
    }
    return result;
  }
  auto names = files.list(target.directory);
  const std::string ours = target.file.substr(target.directory.size() + 1);
  if (text && std::find(names.begin(), names.end(), ours) == names.end()) {
    names.insert(std::upper_bound(names.begin(), names.end(), ours), ours);
  }
  for (const auto& name : names) {
    const std::string path = join_path(target.directory, name);
    if (!is_config_name(name)) {
      continue;
    }
    if (path == target.file) {
      if (text) {
        result.push_back({path, *text});
      }
    } else if (const auto content = files.read(path, kMaxConfigBytes)) {
      result.push_back({path, content->bytes});
    } else {
      result.push_back({path, ""});  // a dangling symlink: the kubelet fails on it, and so do we
    }
  }
  return result;
}

ConfigCheckSettings kubelet_rules(const HostFiles& files, const std::string& bin_dir,
                                  const ProviderSettings& provider) {
  ConfigCheckSettings settings;
  settings.provider_name = provider.name;
  settings.kubelet = provider.kubelet;
  settings.binary_problem = [&files, bin_dir, ours = provider.name](const std::string& name) {
    if (name == ours) {
      return std::optional<std::string>();  // installed with the config
    }
    const std::string path = join_path(bin_dir, name);
    const auto status = files.status(path);
    if (status.kind == FileKind::kRegular && (status.mode & 0111U) != 0) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>("no executable " + path +
                                      ": the kubelet refuses to start without it");
  };
  return settings;
}

// The kubelet generation the entry is written for: as given, or as the config's providers
// that use tokens already show; never a guess (1.33 refuses cacheType, 1.34 requires it).
KubeletGeneration kubelet_generation(const InstallRequest& request,
                                     const std::vector<ConfigFile>& existing) {
  if (request.kubelet) {
    return *request.kubelet;
  }
  ConfigCheckSettings infer;
  infer.provider_name = request.provider.name;
  if (!existing.empty()) {
    const auto report = check_config(existing, infer);
    if (report.uses_service_account_tokens) {
      return report.kubelet;
    }
  }
  std::string asked = "";
  if (request.ask_kubelet) {
    try {
      return request.ask_kubelet();
    } catch (const Failure& failure) {
      asked = " or the running kubelet (" + std::string(failure.what()) + ")";
    }
  }
  throw Failure(ExitCode::kUsage,
                "install: cannot tell the kubelet's version from " + request.config + asked +
                    ": pass --kubelet-version 1.N (1.33 and 1.34+ need different entries)");
}

void check_kubelet_accepts(const std::vector<ConfigFile>& config,
                           const ConfigCheckSettings& rules) {
  const auto report = check_config(config, rules);
  for (const auto& finding : report.findings) {
    if (!finding.warning) {
      throw Failure(ExitCode::kUsage,
                    "install: the kubelet would refuse the config this install would write (" +
                        finding.file +
                        (finding.line > 0 ? ":" + std::to_string(finding.line) : "") + ": " +
                        (finding.path.empty() ? "" : finding.path + ": ") + finding.message +
                        "); nothing was changed");
    }
  }
}

// Writes `bytes` to `path`, first saving what was there (once: a later install keeps the
// original of the first), and records it in `state`.
void replace_managed(Transaction& transaction, InstallState& state, FileRole role,
                     const std::string& path, const std::optional<FileContent>& current,
                     std::string_view bytes, mode_t mode) {
  ManagedFile* managed = state.find(path);
  if (managed == nullptr) {
    ManagedFile fresh{.path = path,
                      .role = role,
                      .original = std::nullopt,
                      .original_mode = 0,
                      .written_sha256 = {}};
    if (current) {
      fresh.original = join_path(originals_directory(), std::to_string(state.files.size() + 1));
      fresh.original_mode = current->mode;
      transaction.write(*fresh.original, current->bytes, 0600);
    }
    state.files.push_back(std::move(fresh));
    managed = &state.files.back();
  }
  transaction.write(path, bytes, mode);
  managed->written_sha256 = sha256_hex(bytes);
}

// The kubelet flags file as install leaves it, when the profile has one.
struct FlagsChange {
  std::string path;  // "" for generic
  std::optional<FileContent> current;
  std::string desired;
};

FlagsChange flags_change(const HostFiles& files, const InstallRequest& request,
                         KubeletGeneration kubelet) {
  FlagsChange change{
      .path = profile_defaults(request.profile).flags_file, .current = {}, .desired = {}};
  if (change.path.empty()) {
    return change;
  }
  const auto flags = kubelet_flags_for(request.bin_dir, request.config, kubelet);
  if (request.profile == Profile::kK3s) {
    check_k3s_settings(files, change.path, flags);
  }
  change.current = files.read(change.path, kMaxConfigBytes);
  change.desired = with_kubelet_flags(
      request.profile, change.current ? std::optional(change.current->bytes) : std::nullopt, flags);
  return change;
}

}  // namespace

Outcome install(HostFiles& files, const InstallRequest& request) {
  const auto recorded = load_state(files);
  if (recorded && (recorded->bin_dir != request.bin_dir || recorded->config != request.config)) {
    throw Failure(ExitCode::kUsage, "install: already installed with --bin-dir " +
                                        recorded->bin_dir + " --config " + recorded->config + " (" +
                                        state_path() + "); uninstall that first");
  }
  const ConfigTarget target = config_target(files, request.config);
  const auto current_config = files.read(target.file, kMaxConfigBytes);
  ProviderSettings provider = request.provider;
  provider.kubelet = kubelet_generation(
      request, config_files(files, target,
                            current_config ? std::optional(current_config->bytes) : std::nullopt));
  if (!target.directory.empty() && provider.kubelet == KubeletGeneration::k1_33) {
    throw Failure(ExitCode::kUsage,
                  "install: a 1.33 kubelet reads one config file, not the "
                  "directory " +
                      request.config);
  }
  const std::string desired_config =
      current_config ? with_provider(current_config->bytes, provider)
                     : new_config(provider, target.file.ends_with(".json") ? ConfigFormat::kJson
                                                                           : ConfigFormat::kYaml);
  check_kubelet_accepts(config_files(files, target, desired_config),
                        kubelet_rules(files, request.bin_dir, provider));

  const std::string binary_path = join_path(request.bin_dir, provider.name);
  const auto current_binary = files.read(binary_path, kMaxManagedFileBytes);
  const bool binary_same =
      current_binary && current_binary->bytes == request.binary && current_binary->mode == 0755;
  const bool config_same = current_config && current_config->bytes == desired_config;
  const FlagsChange flags = flags_change(files, request, provider.kubelet);
  const bool flags_same =
      flags.path.empty() || (flags.current && flags.current->bytes == flags.desired);
  const std::string profile(profile_name(request.profile));
  if (recorded && recorded->profile != profile) {
    throw Failure(ExitCode::kUsage, "install: already installed with --profile " +
                                        recorded->profile + "; uninstall that first");
  }
  Outcome outcome;
  if (binary_same && config_same && flags_same && recorded) {
    outcome.report.push_back("already installed: " + binary_path + " and " + target.file +
                             (flags.path.empty() ? "" : " and " + flags.path) +
                             " are as this install writes them; nothing changed");
    outcome.report.push_back(
        kubelet_flag_report(files, request.bin_dir, request.config, flags.path, false));
    return outcome;
  }

  InstallState state = recorded.value_or(InstallState{.bin_dir = request.bin_dir,
                                                      .config = request.config,
                                                      .profile = profile,
                                                      .created_directories = {},
                                                      .files = {}});
  Transaction transaction(files);
  try {
    for (const auto& directory :
         {request.bin_dir, parent_path(target.file), std::string(kStateDirectory),
          originals_directory(), flags.path.empty() ? std::string("/") : parent_path(flags.path)}) {
      for (auto& made : transaction.make_directories(directory)) {
        state.created_directories.push_back(std::move(made));
      }
    }
    // The binary first: the kubelet refuses a config naming a provider it cannot exec.
    if (!binary_same) {
      replace_managed(transaction, state, FileRole::kBinary, binary_path, current_binary,
                      request.binary, 0755);
      outcome.report.push_back("installed " + binary_path + " (sha256 " +
                               sha256_hex(request.binary).substr(0, 16) +
                               ", read back and "
                               "verified)");
    }
    if (!config_same) {
      replace_managed(transaction, state, FileRole::kConfig, target.file, current_config,
                      desired_config, current_config ? current_config->mode : 0644);
      outcome.report.push_back((current_config ? "added provider " : "wrote provider ") +
                               provider.name + " to " + target.file + " (kubelet " +
                               (provider.kubelet == KubeletGeneration::k1_33 ? "1.33" : "1.34+") +
                               ")");
    }
    // The flags last: a kubelet restarted meanwhile finds the binary and config they name.
    if (!flags_same) {
      replace_managed(transaction, state, FileRole::kKubeletFlags, flags.path, flags.current,
                      flags.desired, flags.current ? flags.current->mode : 0644);
      outcome.report.push_back("gave the kubelet the provider flags in " + flags.path +
                               " (profile " + profile + ")");
    }
    transaction.write(state_path(), serialize(state), 0644);
  } catch (const Failure& failure) {
    transaction.abandon(failure);
  }
  if (request.restart_kubelet) {
    outcome.report.push_back(transaction.commit_after(request.restart_kubelet));
  } else {
    transaction.commit();
  }
  outcome.changed = true;
  outcome.report.push_back(kubelet_flag_report(files, request.bin_dir, request.config, flags.path,
                                               static_cast<bool>(request.restart_kubelet)));
  return outcome;
}

}  // namespace qcp::install

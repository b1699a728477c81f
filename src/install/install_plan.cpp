#include "install/install_plan.hpp"

#include <algorithm>

#include "install/kubelet_process.hpp"
#include "install/node_policy.hpp"
#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/config_directory.hpp"
#include "qcp/quay/provider_needs.hpp"
#include "qcp/version.hpp"

namespace qcp::install {
namespace {

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
    if (!is_config_file_name(name)) {
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
                                  const ProviderSettings& provider, bool with_static) {
  ConfigCheckSettings settings;
  settings.provider_name = provider.name;
  settings.kubelet = provider.kubelet;
  settings.binary_problem = [&files, bin_dir, ours = provider.name,
                             with_static](const std::string& name) {
    if (name == ours || (with_static && name == kStaticProgramName)) {
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
    const auto report = check_provider_config(existing, infer);
    if (report.uses_service_account_tokens) {
      return report.kubelet;
    }
  }
  std::string asked = "";
  if (request.ask_kubelet) {
    try {
      return request.ask_kubelet();
    } catch (const Failure& failure) {
      asked = " or " + request.ask_kubelet_source + " (" + std::string(failure.what()) + ")";
    }
  }
  throw Failure(ExitCode::kUsage,
                "install: cannot tell the kubelet's version from " + request.config + asked +
                    ": pass --kubelet-version 1.N (1.33 and 1.34+ need different entries)");
}

void check_kubelet_accepts(const std::vector<ConfigFile>& config, const ConfigCheckSettings& rules,
                           const Policy* policy) {
  const auto report = check_provider_config(config, rules, policy);
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

// The node's policy: one install writes (--policy-source), or one already there (--policy).
// Written once, it stays part of every install until uninstall, as the static provider does.
std::optional<Policy> plan_policy(const HostFiles& files, const InstallRequest& request,
                                  InstallPlan& plan) {
  const std::string managed = managed_policy_path(request.config);
  if (request.policy_text.empty() && plan.recorded && plan.recorded->find(managed) != nullptr) {
    throw Failure(ExitCode::kUsage, "install: " + managed +
                                        " was installed with --policy-source: give it again, "
                                        "or uninstall first");
  }
  std::optional<Policy> policy;
  if (!request.policy_text.empty()) {
    plan.policy_path = managed;
    policy = parse_policy(request.policy_text, managed);
    plan.current_policy = files.read(managed, kMaxPolicyBytes + 1);
    plan.policy_same = plan.current_policy && plan.current_policy->bytes == request.policy_text &&
                       plan.current_policy->mode == 0644;
  } else if (!request.policy.empty()) {
    policy = read_node_policy(files, request.policy);
  }
  if (policy) {
    apply_policy(*policy, plan.provider);
  }
  return policy;
}

// static-credential-provider: the same bytes under its name. Installed once, it stays part of
// every install until uninstall: an install without it would leave its entry and an old binary.
void plan_static(const HostFiles& files, const InstallRequest& request, InstallPlan& plan) {
  const std::string path = join_path(request.bin_dir, kStaticProgramName);
  if (!request.static_provider) {
    if (plan.recorded && plan.recorded->find(path) != nullptr) {
      throw Failure(ExitCode::kUsage,
                    "install: " + path +
                        " was installed with --static-credentials-dir: give it (and "
                        "--static-match-image) again, or uninstall first");
    }
    return;
  }
  plan.static_binary_path = path;
  plan.current_static_binary = files.read(path, kMaxManagedFileBytes);
  plan.static_binary_same = plan.current_static_binary &&
                            plan.current_static_binary->bytes == request.binary &&
                            plan.current_static_binary->mode == 0755;
}

}  // namespace

InstallPlan plan_install(const HostFiles& files, const InstallRequest& request) {
  InstallPlan plan;
  plan.recorded = load_state(files, request.provider.name);
  const auto& recorded = plan.recorded;
  if (recorded && (recorded->bin_dir != request.bin_dir || recorded->config != request.config)) {
    throw Failure(ExitCode::kUsage, "install: already installed with --bin-dir " +
                                        recorded->bin_dir + " --config " + recorded->config + " (" +
                                        state_path() + "); uninstall that first");
  }
  if (recorded && recorded->profile != profile_name(request.profile)) {
    throw Failure(ExitCode::kUsage, "install: already installed with --profile " +
                                        recorded->profile + "; uninstall that first");
  }
  const ConfigTarget target = config_target(files, request.config);
  plan.config_file = target.file;
  plan.current_config = files.read(target.file, kMaxConfigBytes);
  const auto current_text =
      plan.current_config ? std::optional(plan.current_config->bytes) : std::nullopt;
  plan.provider = request.provider;
  const auto policy = plan_policy(files, request, plan);
  plan.provider.kubelet = kubelet_generation(request, config_files(files, target, current_text));
  if (!target.directory.empty() && plan.provider.kubelet == KubeletGeneration::k1_33) {
    throw Failure(
        ExitCode::kUsage,
        "install: a 1.33 kubelet reads one config file, not the directory " + request.config);
  }
  plan.desired_config = current_text ? with_provider(*current_text, plan.provider)
                                     : new_config(plan.provider, target.file.ends_with(".json")
                                                                     ? ConfigFormat::kJson
                                                                     : ConfigFormat::kYaml);
  if (request.static_provider) {
    plan.desired_config = with_provider(plan.desired_config, *request.static_provider);
  }
  check_kubelet_accepts(
      config_files(files, target, plan.desired_config),
      kubelet_rules(files, request.bin_dir, plan.provider, request.static_provider.has_value()),
      policy ? &*policy : nullptr);
  plan_static(files, request, plan);
  plan.binary_path = join_path(request.bin_dir, plan.provider.name);
  plan.current_binary = files.read(plan.binary_path, kMaxManagedFileBytes);
  plan.binary_same = plan.current_binary && plan.current_binary->bytes == request.binary &&
                     plan.current_binary->mode == 0755;
  plan.config_same = current_text && *current_text == plan.desired_config;
  FlagsChange flags = flags_change(files, request, plan.provider.kubelet);
  plan.flags_same = flags.path.empty() || (flags.current && flags.current->bytes == flags.desired);
  plan.flags_path = std::move(flags.path);
  plan.current_flags = std::move(flags.current);
  plan.desired_flags = std::move(flags.desired);
  return plan;
}

}  // namespace qcp::install

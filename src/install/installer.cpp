#include "qcp/install/installer.hpp"

#include <algorithm>

#include "install/install_plan.hpp"
#include "install/install_state.hpp"
#include "install/journal.hpp"
#include "install/kubelet_process.hpp"
#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_check.hpp"

namespace qcp::install {
namespace {

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

Outcome already_installed(const HostFiles& files, const InstallRequest& request,
                          const InstallPlan& plan) {
  Outcome outcome;
  outcome.report.push_back(
      "already installed: " + plan.binary_path + " and " +
      (plan.static_binary_path.empty() ? "" : plan.static_binary_path + " and ") +
      plan.config_file + (plan.flags_path.empty() ? "" : " and " + plan.flags_path) +
      " are as this install writes them; nothing changed");
  outcome.report.push_back(
      kubelet_flag_report(files, request.bin_dir, request.config, plan.flags_path, false));
  return outcome;
}

// Writes what the plan says, in the kubelet's order, recording each file; returns the report.
std::vector<std::string> carry_out(Transaction& transaction, const InstallRequest& request,
                                   const InstallPlan& plan,
                                   const std::vector<std::string>& lock_created) {
  const std::string profile(profile_name(request.profile));
  InstallState state = plan.recorded.value_or(InstallState{.bin_dir = request.bin_dir,
                                                           .config = request.config,
                                                           .profile = profile,
                                                           .created_directories = {},
                                                           .files = {}});
  state.created_directories.insert(state.created_directories.end(), lock_created.begin(),
                                   lock_created.end());
  std::vector<std::string> report;
  for (const auto& directory :
       {request.bin_dir, parent_path(plan.config_file),
        plan.policy_path.empty() ? std::string("/") : parent_path(plan.policy_path),
        std::string(kStateDirectory), originals_directory(),
        plan.flags_path.empty() ? std::string("/") : parent_path(plan.flags_path)}) {
    for (auto& made : transaction.make_directories(directory)) {
      state.created_directories.push_back(std::move(made));
    }
  }
  // The binary first: the kubelet refuses a config naming a provider it cannot exec.
  if (!plan.binary_same) {
    replace_managed(transaction, state, FileRole::kBinary, plan.binary_path, plan.current_binary,
                    request.binary, 0755);
    report.push_back("installed " + plan.binary_path + " (sha256 " +
                     sha256_hex(request.binary).substr(0, 16) + ", read back and verified)");
  }
  if (!plan.static_binary_same) {
    replace_managed(transaction, state, FileRole::kBinary, plan.static_binary_path,
                    plan.current_static_binary, request.binary, 0755);
    report.push_back("installed " + plan.static_binary_path + " (the same bytes)");
  }
  // The policy before the config that names it: the provider refuses every pull without it.
  if (!plan.policy_same) {
    replace_managed(transaction, state, FileRole::kPolicy, plan.policy_path, plan.current_policy,
                    request.policy_text, 0644);
    report.push_back("wrote the policy " + plan.policy_path + " (from " + request.policy_source +
                     ")");
  }
  if (!plan.config_same) {
    replace_managed(transaction, state, FileRole::kConfig, plan.config_file, plan.current_config,
                    plan.desired_config, plan.current_config ? plan.current_config->mode : 0644);
    report.push_back((plan.current_config ? "added provider " : "wrote provider ") +
                     plan.provider.name +
                     (request.static_provider ? " and " + request.static_provider->name : "") +
                     " to " + plan.config_file + " (kubelet " +
                     (plan.provider.kubelet == KubeletGeneration::k1_33 ? "1.33" : "1.34+") + ")");
  }
  // The flags last: a kubelet restarted meanwhile finds the binary and config they name.
  if (!plan.flags_same) {
    replace_managed(transaction, state, FileRole::kKubeletFlags, plan.flags_path,
                    plan.current_flags, plan.desired_flags,
                    plan.current_flags ? plan.current_flags->mode : 0644);
    report.push_back("gave the kubelet the provider flags in " + plan.flags_path + " (profile " +
                     profile + ")");
  }
  transaction.write(state_path(), serialize(state), 0644);
  return report;
}

}  // namespace

Outcome install(HostFiles& files, const InstallRequest& request) {
  // Refusals and "nothing to do" are found before the lock: they change nothing at all.
  InstallPlan plan = plan_install(files, request);
  const auto written_to = directories_written(request.bin_dir, request.config, request.profile);
  if (plan.nothing_to_do() && !recovery_needed(files, written_to)) {
    return already_installed(files, request, plan);
  }
  // One install or uninstall at a time; the lock goes last, after any rollback. Under it what
  // a killed run left is undone first, and the node read again.
  const DirectoryLock lock =
      files.lock_directory(kStateDirectory, std::chrono::steady_clock::now() + request.lock_wait);
  Transaction transaction(files);
  transaction.adopt_created(lock.created());
  Outcome outcome;
  if (auto recovered = recover(files, request.provider.name, written_to); !recovered.empty()) {
    outcome.report.push_back(std::move(recovered));
    outcome.changed = true;
  }
  InstallRequest decided = request;
  decided.kubelet = plan.provider.kubelet;  // the kubelet is not asked twice
  plan = plan_install(files, decided);
  if (plan.nothing_to_do()) {
    for (auto& line : already_installed(files, request, plan).report) {
      outcome.report.push_back(std::move(line));
    }
    return outcome;
  }
  transaction.journal_to(InstallState{.bin_dir = request.bin_dir,
                                      .config = request.config,
                                      .profile = std::string(profile_name(request.profile)),
                                      .created_directories = {},
                                      .files = {}},
                         request.provider.name);
  try {
    for (auto& line : carry_out(transaction, request, plan, lock.created())) {
      outcome.report.push_back(std::move(line));
    }
  } catch (const Failure& failure) {
    transaction.abandon(failure);
  }
  if (request.restart_kubelet) {
    outcome.report.push_back(transaction.commit_after(request.restart_kubelet));
  } else {
    transaction.commit();
  }
  outcome.changed = true;
  outcome.report.push_back(kubelet_flag_report(files, request.bin_dir, request.config,
                                               plan.flags_path,
                                               static_cast<bool>(request.restart_kubelet)));
  return outcome;
}

}  // namespace qcp::install

#include <unistd.h>

#include <algorithm>

#include "install/install_state.hpp"
#include "install/journal.hpp"
#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/version.hpp"

namespace qcp::install {
namespace {

// Puts one managed file back: its original when it is still what install wrote; otherwise a
// config loses only our entry and anything else is left to whoever changed it.
void put_back(HostFiles& files, Transaction& transaction, const ManagedFile& managed,
              const InstallState& state, std::string_view provider_name, Outcome& outcome) {
  const auto current = files.read(managed.path, kMaxManagedFileBytes);
  if (!current) {
    outcome.report.push_back(managed.path + " is already gone");
    return;
  }
  if (sha256_hex(current->bytes) == managed.written_sha256) {
    if (!managed.original) {
      transaction.remove(managed.path);
      outcome.report.push_back("removed " + managed.path);
      return;
    }
    const auto original = files.read(*managed.original, kMaxManagedFileBytes);
    if (!original) {
      throw Failure(ExitCode::kLookupFailed, "uninstall: the saved original of " + managed.path +
                                                 " (" + *managed.original + ") is missing");
    }
    if (original->owner != current->owner && original->owner != ::geteuid()) {
      throw Failure(ExitCode::kLookupFailed, "uninstall: the saved original of " + managed.path +
                                                 " (" + *managed.original + ") is owned by uid " +
                                                 std::to_string(original->owner) +
                                                 ", not by the installer");
    }
    transaction.write(managed.path, original->bytes, managed.original_mode);
    outcome.report.push_back("restored " + managed.path + " as it was before install");
    return;
  }
  if (managed.role == FileRole::kBinary || managed.role == FileRole::kPolicy) {
    outcome.report.push_back("left " + managed.path +
                             " in place: it was replaced after install, so it is not ours");
    return;
  }
  if (managed.role == FileRole::kKubeletFlags) {
    const auto profile = parse_profile(state.profile).value_or(Profile::kGeneric);
    // The gate stays: whether install or someone else turned it on cannot be told apart.
    const auto without = without_kubelet_flags(
        profile, current->bytes,
        kubelet_flags_for(state.bin_dir, state.config, KubeletGeneration::k1_34_or_later));
    if (!without) {
      transaction.remove(managed.path);
    } else if (*without != current->bytes) {
      transaction.write(managed.path, *without, current->mode);
    }
    outcome.report.push_back("removed the provider flags from " + managed.path +
                             " (changed after install: the rest is kept)");
    return;
  }
  // Our entry, and static-credential-provider's when install wrote that too.
  std::string without = without_provider(current->bytes, provider_name);
  const std::string static_binary = join_path(state.bin_dir, kStaticProgramName);
  if (std::any_of(state.files.begin(), state.files.end(),
                  [&](const ManagedFile& file) { return file.path == static_binary; })) {
    without = without_provider(without, kStaticProgramName);
  }
  if (without != current->bytes) {
    transaction.write(managed.path, without, current->mode);
  }
  outcome.report.push_back("removed provider " + std::string(provider_name) + " from " +
                           managed.path + " (changed after install: the rest is kept)");
}

// Every file back as it was: the flags, then the config, then the binary, so the kubelet never
// reads a flag naming a config that is gone, or a config naming a binary that is gone; then the
// saved originals and the record. A failure abandons the transaction (everything rolled back).
void put_everything_back(HostFiles& files, Transaction& transaction, const InstallState& state,
                         const UninstallRequest& request, Outcome& outcome) {
  std::vector<const ManagedFile*> order;
  for (const auto& managed : state.files) {
    order.push_back(&managed);
  }
  std::stable_sort(order.begin(), order.end(), [](const ManagedFile* a, const ManagedFile* b) {
    return static_cast<int>(a->role) > static_cast<int>(b->role);
  });
  try {
    for (const ManagedFile* managed : order) {
      put_back(files, transaction, *managed, state, request.provider_name, outcome);
    }
    for (const auto& managed : state.files) {
      if (managed.original) {
        transaction.remove(*managed.original);
      }
    }
    transaction.remove(state_path());
  } catch (const Failure& failure) {
    transaction.abandon(failure);
  }
}

// Directories install made, innermost first, while empty: what others put there stays. The
// state directory is install's own whoever made it (two installs racing to make it for the
// lock cannot both have).
void remove_created_directories(HostFiles& files, const InstallState& state, Outcome& outcome) {
  std::vector<std::string> directories(state.created_directories.rbegin(),
                                       state.created_directories.rend());
  if (std::find(directories.begin(), directories.end(), kStateDirectory) == directories.end()) {
    directories.insert(directories.begin(), originals_directory());
    directories.insert(directories.begin() + 1, kStateDirectory);
  }
  for (const auto& directory : directories) {
    if (!files.remove_directory(directory)) {
      outcome.report.push_back("kept " + directory + ": it holds files install did not put there");
    }
  }
}

}  // namespace

Outcome uninstall(HostFiles& files, const UninstallRequest& request) {
  Outcome outcome;
  // Any profile's flags file may hold what a killed install left: look where each writes.
  auto written_to = directories_written(request.bin_dir, request.config, Profile::kGeneric);
  for (const Profile profile : {Profile::kKubeadm, Profile::kK3s}) {
    written_to.push_back(parent_path(profile_defaults(profile).flags_file));
  }
  // Before the lock: nothing to do changes nothing.
  if (!load_state(files, request.provider_name) && !recovery_needed(files, written_to)) {
    outcome.report.push_back("nothing to uninstall: no install record at " + state_path());
    return outcome;
  }
  // As install: one at a time, what a killed run left undone first, the record read again.
  const DirectoryLock lock =
      files.lock_directory(kStateDirectory, std::chrono::steady_clock::now() + request.lock_wait);
  Transaction transaction(files);
  transaction.adopt_created(lock.created());
  if (auto recovered = recover(files, request.provider_name, written_to); !recovered.empty()) {
    outcome.report.push_back(std::move(recovered));
    outcome.changed = true;
  }
  const auto state = load_state(files, request.provider_name);
  if (!state) {
    // Install's own directories, emptied by a run stopped just before it removed them.
    files.remove_directory(originals_directory());
    files.remove_directory(kStateDirectory);
    outcome.report.push_back("nothing to uninstall: no install record at " + state_path());
    return outcome;
  }
  transaction.journal_to(*state, request.provider_name);
  if (state->bin_dir != request.bin_dir || state->config != request.config) {
    throw Failure(ExitCode::kUsage, "uninstall: installed with --bin-dir " + state->bin_dir +
                                        " --config " + state->config + " (" + state_path() +
                                        "), not these");
  }
  put_everything_back(files, transaction, *state, request, outcome);
  if (request.restart_kubelet) {
    outcome.report.push_back(transaction.commit_after(request.restart_kubelet));
  } else {
    transaction.commit();
  }
  remove_created_directories(files, *state, outcome);
  outcome.changed = true;
  return outcome;
}

}  // namespace qcp::install

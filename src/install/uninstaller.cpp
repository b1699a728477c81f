#include <algorithm>

#include "install/install_state.hpp"
#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"

namespace qcp::install {
namespace {

// Puts one managed file back: its original when it is still what install wrote; otherwise a
// config loses only our entry and anything else is left to whoever changed it.
void put_back(HostFiles& files, Transaction& transaction, const ManagedFile& managed,
              bool is_binary, std::string_view provider_name, Outcome& outcome) {
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
    transaction.write(managed.path, original->bytes, managed.original_mode);
    outcome.report.push_back("restored " + managed.path + " as it was before install");
    return;
  }
  if (is_binary) {
    outcome.report.push_back("left " + managed.path +
                             " in place: it was replaced after install, so it is not ours");
    return;
  }
  const std::string without = without_provider(current->bytes, provider_name);
  if (without != current->bytes) {
    transaction.write(managed.path, without, current->mode);
  }
  outcome.report.push_back("removed provider " + std::string(provider_name) + " from " +
                           managed.path + " (changed after install: the rest is kept)");
}

}  // namespace

Outcome uninstall(HostFiles& files, const UninstallRequest& request) {
  Outcome outcome;
  const auto state = load_state(files);
  if (!state) {
    outcome.report.push_back("nothing to uninstall: no install record at " + state_path());
    return outcome;
  }
  if (state->bin_dir != request.bin_dir || state->config != request.config) {
    throw Failure(ExitCode::kUsage, "uninstall: installed with --bin-dir " + state->bin_dir +
                                        " --config " + state->config + " (" + state_path() +
                                        "), not these");
  }
  const std::string binary_path = join_path(state->bin_dir, request.provider_name);
  // The config first, so the kubelet never reads one naming a binary that is gone.
  std::vector<const ManagedFile*> order;
  for (const auto& managed : state->files) {
    order.push_back(&managed);
  }
  std::stable_partition(order.begin(), order.end(), [&binary_path](const ManagedFile* managed) {
    return managed->path != binary_path;
  });
  Transaction transaction(files);
  try {
    for (const ManagedFile* managed : order) {
      put_back(files, transaction, *managed, managed->path == binary_path, request.provider_name,
               outcome);
    }
    for (const auto& managed : state->files) {
      if (managed.original) {
        transaction.remove(*managed.original);
      }
    }
    transaction.remove(state_path());
    transaction.commit();
  } catch (const Failure& failure) {
    transaction.abandon(failure);
  }
  // Directories install made, innermost first, while empty: what others put there stays.
  for (auto directory = state->created_directories.rbegin();
       directory != state->created_directories.rend(); ++directory) {
    if (!files.remove_directory(*directory)) {
      outcome.report.push_back("kept " + *directory + ": it holds files install did not put there");
    }
  }
  outcome.changed = true;
  return outcome;
}

}  // namespace qcp::install

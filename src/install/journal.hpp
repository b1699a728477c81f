#pragma once

// Crash safety for install and uninstall. Before each change a run records how to undo it, on
// disk: the bytes a file had (copied to journal/N) or that it was absent, and the directories it
// is about to make. A run killed at any point (SIGKILL, an OOM kill, an eviction) leaves the
// journal; the next run, holding the lock, undoes what it names before doing anything else,
// and sweeps the temporary files a killed write left. A run that ends, either way, removes it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "install/install_state.hpp"
#include "qcp/core/host_files.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/install/profile.hpp"

namespace qcp::install {

class Journal {
 public:
  // `scope`: the bin dir, config and profile of the run (only their paths may be journaled).
  Journal(HostFiles& files, InstallState scope, std::string provider_name);

  // Call before the change: the directories about to be made; a file about to be replaced or
  // removed, with what it holds now (nullopt: nothing).
  void will_create(const std::vector<std::string>& directories);
  void will_change(const std::string& path, const std::optional<FileContent>& before);
  // The run's changes are final, or were all undone: the journal goes (its record first, so a
  // kill meanwhile leaves copies that the next run sweeps, never a journal to act on).
  void finish();

 private:
  void persist();

  HostFiles& files_;
  InstallState scope_;
  std::string provider_name_;
  struct Entry {
    std::string path;
    std::optional<std::string> saved;  // journal/N holding the bytes before; none: absent
    mode_t mode = 0;
  };
  std::vector<std::string> directories_;
  std::vector<Entry> entries_;
  bool started_ = false;
};

// Undoes what a killed run's journal names (after checking it names only what install writes),
// removes the temporary files a killed write leaves in `directories`, and returns one line to
// report when there was anything to do ("" otherwise). Throws Failure when the journal is not
// one install wrote, or cannot be undone; it is then left for the next run.
std::string recover(HostFiles& files, std::string_view provider_name,
                    const std::vector<std::string>& directories);

// Whether recover() has anything to do: a journal, or a temporary file of install's in one of
// `directories`. Read without the lock, so that a run with nothing to change takes no lock.
bool recovery_needed(const HostFiles& files, const std::vector<std::string>& directories);

// The directories install and uninstall write files into, for these node paths and profile.
std::vector<std::string> directories_written(const std::string& bin_dir, const std::string& config,
                                             Profile profile);

}  // namespace qcp::install

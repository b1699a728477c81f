#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/host_files.hpp"
#include "qcp/core/redact.hpp"  // sha256_hex
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// The file install writes into a config directory (the kubelet reads *.yaml there, 1.34+).
inline constexpr const char* kConfigFileName = "quay-credential-provider.yaml";

// What a managed file is to install: it decides how uninstall treats one changed since.
enum class FileRole { kBinary, kConfig, kKubeletFlags, kPolicy };

// One file install wrote, and how to put it back.
struct ManagedFile {
  std::string path;  // node path
  FileRole role = FileRole::kConfig;
  std::optional<std::string> original;  // node path of the saved bytes it replaced; none: new
  mode_t original_mode = 0;
  std::string written_sha256;  // what install wrote: a file changed since is not ours to restore
};

// install.json: what install created and replaced, for uninstall (and a second install).
struct InstallState {
  std::string bin_dir;
  std::string config;
  std::string profile;  // profile_name(): how its kubelet flags file is read
  std::vector<std::string> created_directories;  // outermost first
  std::vector<ManagedFile> files;

  ManagedFile* find(std::string_view path);
};

std::string state_path();
// Where install --policy-source writes the node's policy: beside the kubelet's config (a file,
// or a directory whose *.yaml the kubelet reads: never inside that).
std::string managed_policy_path(std::string_view config);
std::string originals_directory();
// Where a run's journal and the bytes it will replace are kept until it commits (journal.hpp).
std::string journal_directory();

// What install can ever write or create for a node installed at `scope`'s bin dir, config and
// profile: the binary, the config, the profile's flags file, the record, saved originals
// (originals/N), journal copies (journal/N), and the directories above those. A record or
// journal naming anything else was not written by install and is never acted on.
bool install_may_write(const InstallState& scope, std::string_view path,
                       std::string_view provider_name);
bool install_may_create(const InstallState& scope, std::string_view directory);

// The record, or nullopt when there is none. Throws Failure when it cannot be read, or when it
// is not one install could have written for `provider_name`: a record owned by another user
// or writable by others, or one naming a file or directory install never manages (uninstall
// would delete or overwrite whatever it names).
std::optional<InstallState> load_state(const HostFiles& files, std::string_view provider_name);
std::string serialize(const InstallState& state);

}  // namespace qcp::install

#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/redact.hpp"  // sha256_hex
#include "qcp/install/host_files.hpp"

namespace qcp::install {

// What a managed file is to install: it decides how uninstall treats one changed since.
enum class FileRole { kBinary, kConfig, kKubeletFlags };

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
std::string originals_directory();

// The record, or nullopt when there is none; a record that cannot be read throws Failure.
std::optional<InstallState> load_state(const HostFiles& files);
std::string serialize(const InstallState& state);

}  // namespace qcp::install

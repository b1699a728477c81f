#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/unique_fd.hpp"

namespace qcp::core {

// The descriptor-level pieces every atomic writer shares; each caller words its own failures.

// A name for a temporary file beside `name`: ".NAME.qcp-" and 12 random hex digits. Created
// with O_EXCL, so two writers never share one even if the randomness failed.
std::string temporary_name(std::string_view name);
// Whether `name` is one temporary_name() makes: what a writer killed before its rename leaves.
bool is_temporary_name(std::string_view name);

// All of `bytes` to `fd` (EINTR retried); false, with errno set, on an error.
bool write_all(int fd, std::string_view bytes);

// `fd` to its end, appended to `out`: the one bounded reader. false, with errno set (EFBIG for
// more than `max_bytes`), on an error.
bool read_all(int fd, std::size_t max_bytes, std::string& out);

struct DirectoryEntry {
  std::string name;
  // As Go's os.ReadDir (and so the kubelet) sees it: a directory only if it is one itself; a
  // symlink is not a directory, whatever it points to.
  bool is_directory = false;
};

// The entries of the directory open at `directory` (which this closes), sorted by name,
// without "." and "..": the one directory lister. false, with errno set, on an error.
bool list_directory(UniqueFd directory, std::vector<DirectoryEntry>& out);

}  // namespace qcp::core

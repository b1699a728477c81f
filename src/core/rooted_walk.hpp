#pragma once

// How RootedFiles walks a node path inside the host root (for its own files and the lock).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/unique_fd.hpp"

namespace qcp::core {

// Throws Failure (kLookupFailed): "cannot VERB PATH: strerror".
[[noreturn]] void fail_path(std::string_view verb, std::string_view path, int error);

// Where a node path leads inside the root: the directory holding its last component, and that
// component's name (empty for the root itself).
struct Location {
  UniqueFd dir;
  std::string name;
};

struct Walk {
  bool follow_last = true;
  bool create_parents = false;
  std::vector<std::string>* created = nullptr;  // with create_parents: node paths made
};

// Resolves `path` component by component from the root, reading each symlink and starting an
// absolute one again at the root, so resolution never leaves it. nullopt when a directory on
// the way does not exist (and is not to be created).
std::optional<Location> locate(int root_fd, std::string_view path, const Walk& walk);

// As locate, but a missing directory on the way is a failure ("cannot write PATH").
Location locate_existing_parent(int root_fd, std::string_view path, bool follow_last);

}  // namespace qcp::core

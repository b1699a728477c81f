#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "qcp/core/unique_fd.hpp"

namespace qcp::core {

// Files of the caller's own that may hold a credential or decide what a privileged process
// does next: auth files, ready files, failure records. Whoever runs this (root, often) must not
// be steered by another user of the machine, so, as ssh's StrictModes does:
//   - a final symlink is never followed (nor written through, nor removed on someone's behalf);
//   - a file owned by another user is refused, never read, written into or given our bytes;
//   - so is a directory others may write to without the sticky bit (they could swap the file);
//   - what is created is the caller's own, mode 0600, written atomically (a temporary file
//     made O_EXCL|O_NOFOLLOW, fsynced, renamed), and the name must then lead to that inode.
// Every refusal throws Failure (kUsage) naming the path and why; `what` says what the file is
// for ("--authfile"), so the message speaks the caller's language.

// The bytes of the file, or nullopt when there is none.
std::optional<std::string> read_private_file(const std::string& path, std::string_view what,
                                             std::size_t max_bytes);

// read_private_file for a file that holds a password: also refused when group or others have
// any access to it (mode & 077), as ssh refuses such a private key.
std::optional<std::string> read_secret_file(const std::string& path, std::string_view what,
                                            std::size_t max_bytes);

// Replaces (or creates) the file with `bytes`, creating missing parent directories 0700.
void write_private_file(const std::string& path, std::string_view what, std::string_view bytes);

// Removes the file when it is the caller's; nothing there is not an error. Returns false, and
// leaves it, when it is not the caller's to remove (a symlink or a file of someone else's).
bool remove_private_file(const std::string& path);

// An exclusive lock on `path` + ".lock" (a file of the caller's, 0600, kept: removing a lock
// file races its next taker), held while this lives: writers of one file read, merge and write
// it one at a time. Waits until `deadline`, then throws Failure.
class PrivateFileLock {
 public:
  PrivateFileLock(const std::string& path, std::string_view what,
                  std::chrono::steady_clock::time_point deadline);
  PrivateFileLock(const PrivateFileLock&) = delete;
  PrivateFileLock& operator=(const PrivateFileLock&) = delete;
  PrivateFileLock(PrivateFileLock&&) = delete;
  PrivateFileLock& operator=(PrivateFileLock&&) = delete;
  ~PrivateFileLock();

 private:
  UniqueFd fd_;
};

}  // namespace qcp::core

#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qcp/core/unique_fd.hpp"

namespace qcp::core {

enum class FileKind { kAbsent, kRegular, kDirectory, kOther };

struct FileStatus {
  FileKind kind = FileKind::kAbsent;
  mode_t mode = 0;  // permission bits
  uid_t owner = 0;
  std::chrono::system_clock::time_point modified{};
};

struct FileContent {
  std::string bytes;
  mode_t mode = 0;  // permission bits
  uid_t owner = 0;
};

// An exclusive lock on a node directory, held while this lives (flock: the kernel releases it
// when the process dies, however it dies).
class DirectoryLock {
 public:
  DirectoryLock() = default;
  DirectoryLock(UniqueFd fd, std::vector<std::string> created)
      : fd_(std::move(fd)), created_(std::move(created)) {}
  // The directories made to hold the lock, outermost first: the caller's to record or remove.
  [[nodiscard]] const std::vector<std::string>& created() const { return created_; }

 private:
  UniqueFd fd_;
  std::vector<std::string> created_;
};

// The node's file system, addressed by node paths ("/etc/kubernetes/..."). The installer's only
// way to the files it reads and changes; tests wrap it to fail at a chosen step. Every error
// throws Failure (kLookupFailed) naming the node path and the reason.
class HostFiles {
 public:
  HostFiles() = default;
  HostFiles(const HostFiles&) = delete;
  HostFiles& operator=(const HostFiles&) = delete;
  HostFiles(HostFiles&&) = delete;
  HostFiles& operator=(HostFiles&&) = delete;
  virtual ~HostFiles() = default;

  // What `path` is, following symlinks.
  [[nodiscard]] virtual FileStatus status(const std::string& path) const = 0;
  // A regular file's bytes and mode (following symlinks); nullopt when nothing is there.
  [[nodiscard]] virtual std::optional<FileContent> read(const std::string& path,
                                                        std::size_t max_bytes) const = 0;
  // Replaces (or creates) the regular file at `path` atomically: a temporary file in the same
  // directory, written, read back through the same descriptor and compared, fsynced, renamed
  // over it, the directory fsynced; then the name must lead to the inode written (one renamed
  // over it meanwhile is a failure). A reader sees the old file or the new one, never a part. A
  // symlink at `path` is followed: its target is replaced.
  virtual void write_atomic(const std::string& path, std::string_view bytes, mode_t mode) = 0;
  // Removes the file (or symlink) at `path`; nothing there is not an error.
  virtual void remove_file(const std::string& path) = 0;
  // Creates `path` and its missing parents (mode 0755); returns those it created, outermost
  // first.
  virtual std::vector<std::string> make_directories(const std::string& path) = 0;
  // Removes an empty directory; false when it holds something (it is then left alone).
  virtual bool remove_directory(const std::string& path) = 0;
  // The names in a directory, sorted.
  [[nodiscard]] virtual std::vector<std::string> list(const std::string& path) const = 0;
  // What the symlink at `path` says (its directory resolved inside the root, the link itself
  // not followed); nullopt when `path` is missing or not a symlink. Reads /proc's links too:
  // "/proc/PID/exe" says the program's path, "/proc/PID/ns/mnt" its mount namespace.
  [[nodiscard]] virtual std::optional<std::string> link_target(const std::string& path) const = 0;
  // Locks the directory at `path` (not a symlink; created with its parents when missing, and
  // made mode 0700 so that no other user can open, and so lock, it), waiting for another
  // holder until `deadline`. A directory removed by the holder it waited for is made again.
  // Throws Failure when it is another user's, or at the deadline.
  virtual DirectoryLock lock_directory(const std::string& path,
                                       std::chrono::steady_clock::time_point deadline) = 0;
};

// HostFiles under `root` (--host-root: "/" on the node, "/host" in the DaemonSet). Node paths are
// resolved inside the root as the node itself would resolve them: an absolute symlink restarts
// at the root and ".." stops there, so no path, however its symlinks are laid, reaches outside
// the node's tree (nor into the container's own).
class RootedFiles final : public HostFiles {
 public:
  explicit RootedFiles(const std::string& root);
  ~RootedFiles() override;
  RootedFiles(const RootedFiles&) = delete;
  RootedFiles& operator=(const RootedFiles&) = delete;
  RootedFiles(RootedFiles&&) = delete;
  RootedFiles& operator=(RootedFiles&&) = delete;

  [[nodiscard]] FileStatus status(const std::string& path) const override;
  [[nodiscard]] std::optional<FileContent> read(const std::string& path,
                                                std::size_t max_bytes) const override;
  void write_atomic(const std::string& path, std::string_view bytes, mode_t mode) override;
  void remove_file(const std::string& path) override;
  std::vector<std::string> make_directories(const std::string& path) override;
  bool remove_directory(const std::string& path) override;
  [[nodiscard]] std::vector<std::string> list(const std::string& path) const override;
  [[nodiscard]] std::optional<std::string> link_target(const std::string& path) const override;
  DirectoryLock lock_directory(const std::string& path,
                               std::chrono::steady_clock::time_point deadline) override;

 private:
  UniqueFd root_;
};

// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string parent_path(std::string_view path);
// dir + "/" + name, without a doubled slash.
std::string join_path(std::string_view dir, std::string_view name);

}  // namespace qcp::core

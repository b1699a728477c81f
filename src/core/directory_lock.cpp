// RootedFiles::lock_directory: one install or uninstall at a time on a node.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <utility>

#include "core/rooted_walk.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/host_files.hpp"

namespace qcp::core {
namespace {

constexpr auto kLockPoll = std::chrono::milliseconds{50};
// Only its owner may open it: nobody else can hold the lock and stall the installer.
constexpr mode_t kLockedDirectoryMode = 0700;

// The directory at `path`, opened without following a final symlink; nullopt when missing.
std::optional<UniqueFd> open_directory(int root_fd, const std::string& path) {
  const auto location = locate(root_fd, path, {.follow_last = false});
  if (!location || location->name.empty()) {
    return std::nullopt;
  }
  UniqueFd fd(::openat(location->dir.get(), location->name.c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    fail_path("lock", path, errno == ELOOP ? ENOTDIR : errno);
  }
  return fd;
}

void check_own(int fd, const std::string& path) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    fail_path("lock", path, errno);
  }
  if (status.st_uid != ::geteuid()) {
    throw Failure(ExitCode::kLookupFailed,
                  "cannot lock " + path + ": it is owned by uid " + std::to_string(status.st_uid) +
                      ", not " + std::to_string(::geteuid()) +
                      " (another user could hold the lock or plant the record)");
  }
  if ((status.st_mode & 022U) != 0) {
    throw Failure(ExitCode::kLookupFailed,
                  "cannot lock " + path +
                      ": it is writable by group or others, so what it holds cannot be trusted; "
                      "nothing was changed (check it, then make it 0700)");
  }
  // Made by an older installer 0755: anyone could open it and hold the lock.
  if ((status.st_mode & 07777U) != kLockedDirectoryMode &&
      ::fchmod(fd, kLockedDirectoryMode) != 0) {
    fail_path("lock", path, errno);
  }
}

// True while the inode locked is still the directory at `path`: a holder that removed it
// (uninstall) leaves the lock on an orphan, and the next one must make the directory again.
bool still_there(int root_fd, int fd, const std::string& path) {
  const auto again = open_directory(root_fd, path);
  struct stat now {};
  struct stat locked {};
  return again && ::fstat(again->get(), &now) == 0 && ::fstat(fd, &locked) == 0 &&
         now.st_dev == locked.st_dev && now.st_ino == locked.st_ino;
}

}  // namespace

DirectoryLock RootedFiles::lock_directory(const std::string& path,
                                          std::chrono::steady_clock::time_point deadline) {
  std::vector<std::string> created;
  for (;;) {
    const auto made = make_directories(path);
    created.insert(created.end(), made.begin(), made.end());
    auto fd = open_directory(root_.get(), path);
    if (!fd) {
      if (std::chrono::steady_clock::now() >= deadline) {
        fail_path("lock", path, ENOENT);
      }
      continue;  // removed between the two: make it again
    }
    check_own(fd->get(), path);
    while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        fail_path("lock", path, errno);
      }
      if (std::chrono::steady_clock::now() + kLockPoll >= deadline) {
        throw Failure(ExitCode::kLookupFailed,
                      "another install or uninstall has held " + path +
                          " too long; nothing was changed (try again once it has ended)");
      }
      std::this_thread::sleep_for(kLockPoll);
    }
    if (still_there(root_.get(), fd->get(), path)) {
      return {std::move(*fd), std::move(created)};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      fail_path("lock", path, ETIMEDOUT);
    }
  }
}

}  // namespace qcp::core

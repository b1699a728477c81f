#include "qcp/core/host_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "core/rooted_walk.hpp"
#include "qcp/core/atomic_write.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/file_io.hpp"

namespace qcp::core {
namespace {

std::string read_all(int fd, std::string_view path, std::size_t max_bytes) {
  std::string bytes;
  if (!core::read_all(fd, max_bytes, bytes)) {
    fail_path("read", path, errno);
  }
  return bytes;
}

}  // namespace

std::string parent_path(std::string_view path) {
  while (path.size() > 1 && path.ends_with('/')) {
    path.remove_suffix(1);
  }
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) {
    return "/";
  }
  return std::string(path.substr(0, slash));
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.ends_with('/')) {
    path += '/';
  }
  path += name;
  return path;
}

RootedFiles::RootedFiles(const std::string& root)
    : root_(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  if (root_.get() < 0) {
    fail_path("open the host root", root, errno);
  }
}

RootedFiles::~RootedFiles() = default;

FileStatus RootedFiles::status(const std::string& path) const {
  const auto location = locate(root_.get(), path, {.follow_last = true});
  if (!location) {
    return {};
  }
  struct stat status {};
  const int found =
      location->name.empty()
          ? ::fstatat(location->dir.get(), "", &status, AT_EMPTY_PATH)
          : ::fstatat(location->dir.get(), location->name.c_str(), &status, AT_SYMLINK_NOFOLLOW);
  if (found != 0) {
    if (errno == ENOENT) {
      return {};
    }
    fail_path("read", path, errno);
  }
  const FileKind kind = S_ISREG(status.st_mode)   ? FileKind::kRegular
                        : S_ISDIR(status.st_mode) ? FileKind::kDirectory
                                                  : FileKind::kOther;
  const auto modified = std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds{status.st_mtim.tv_sec} +
          std::chrono::nanoseconds{status.st_mtim.tv_nsec})};
  return {kind, status.st_mode & 07777U, status.st_uid, modified};
}

std::optional<FileContent> RootedFiles::read(const std::string& path, std::size_t max_bytes) const {
  const auto location = locate(root_.get(), path, {.follow_last = true});
  if (!location) {
    return std::nullopt;
  }
  if (location->name.empty()) {
    fail_path("read", path, EISDIR);
  }
  const UniqueFd file(::openat(location->dir.get(), location->name.c_str(),
                               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    fail_path("read", path, errno);
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    fail_path("read", path, errno);
  }
  if (!S_ISREG(status.st_mode)) {
    fail_path("read", path, S_ISDIR(status.st_mode) ? EISDIR : EINVAL);
  }
  return FileContent{read_all(file.get(), path, max_bytes), status.st_mode & 07777U, status.st_uid};
}

void RootedFiles::write_atomic(const std::string& path, std::string_view bytes, mode_t mode) {
  const auto location = locate_existing_parent(root_.get(), path, true);
  if (location.name.empty()) {
    fail_path("write", path, EISDIR);
  }
  struct stat existing {};
  const bool replaces =
      ::fstatat(location.dir.get(), location.name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  if (replaces && !S_ISREG(existing.st_mode)) {
    fail_path("replace", path, S_ISDIR(existing.st_mode) ? EISDIR : EINVAL);
  }
  AtomicWrite how{.mode = mode, .owner = std::nullopt, .before_replace = {}};
  if (replaces && ::geteuid() == 0) {  // the owner of the file replaced stays its owner
    how.owner = AtomicWrite::Owner{existing.st_uid, existing.st_gid};
  }
  const auto error = write_atomically(location.dir.get(), location.name, bytes, how);
  if (!error) {
    return;
  }
  if (error->step == AtomicWriteStep::kReadBack) {
    throw Failure(ExitCode::kLookupFailed,
                  "cannot write " + path + ": what was read back differs from what was written");
  }
  if (error->step == AtomicWriteStep::kLanded) {
    throw Failure(
        ExitCode::kLookupFailed,
        "cannot write " + path + ": another file was put in its place while it was written");
  }
  fail_path("write", path, error->error);
}

void RootedFiles::remove_file(const std::string& path) {
  const auto location = locate(root_.get(), path, {.follow_last = false});
  if (!location || location->name.empty()) {
    return;
  }
  if (::unlinkat(location->dir.get(), location->name.c_str(), 0) != 0 && errno != ENOENT) {
    fail_path("remove", path, errno);
  }
}

std::vector<std::string> RootedFiles::make_directories(const std::string& path) {
  std::vector<std::string> created;
  const auto location =
      locate(root_.get(), path, {.follow_last = true, .create_parents = true, .created = &created});
  if (location && !location->name.empty()) {
    struct stat status {};
    if (::fstatat(location->dir.get(), location->name.c_str(), &status, 0) == 0) {
      if (!S_ISDIR(status.st_mode)) {
        fail_path("create the directory", path, EEXIST);
      }
    } else if (::mkdirat(location->dir.get(), location->name.c_str(), 0755) == 0) {
      created.push_back(path);
    } else {
      const int error = errno;
      // Another run may have made it just now: a directory there is what was asked for.
      if (error != EEXIST ||
          ::fstatat(location->dir.get(), location->name.c_str(), &status, 0) != 0 ||
          !S_ISDIR(status.st_mode)) {
        fail_path("create the directory", path, error);
      }
    }
  }
  return created;
}

bool RootedFiles::remove_directory(const std::string& path) {
  const auto location = locate(root_.get(), path, {.follow_last = false});
  if (!location || location->name.empty()) {
    return true;
  }
  if (::unlinkat(location->dir.get(), location->name.c_str(), AT_REMOVEDIR) == 0 ||
      errno == ENOENT) {
    return true;
  }
  if (errno == ENOTEMPTY || errno == EEXIST) {
    return false;
  }
  fail_path("remove the directory", path, errno);
}

std::vector<std::string> RootedFiles::list(const std::string& path) const {
  const auto location = locate(root_.get(), path, {.follow_last = true});
  if (!location) {
    fail_path("list", path, ENOENT);
  }
  UniqueFd directory(location->name.empty()
                         ? ::openat(location->dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                         : ::openat(location->dir.get(), location->name.c_str(),
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  std::vector<DirectoryEntry> entries;
  if (directory.get() < 0 || !list_directory(std::move(directory), entries)) {
    fail_path("list", path, errno);
  }
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (auto& entry : entries) {
    names.push_back(std::move(entry.name));
  }
  return names;
}

std::optional<std::string> RootedFiles::link_target(const std::string& path) const {
  const auto location = locate(root_.get(), path, {.follow_last = false});
  if (!location || location->name.empty()) {
    return std::nullopt;
  }
  std::array<char, 4096> target{};
  const auto length =
      ::readlinkat(location->dir.get(), location->name.c_str(), target.data(), target.size());
  if (length < 0) {
    if (errno == ENOENT || errno == EINVAL) {
      return std::nullopt;
    }
    fail_path("read the link", path, errno);
  }
  if (static_cast<std::size_t>(length) >= target.size()) {
    fail_path("read the link", path, ENAMETOOLONG);
  }
  return std::string(target.data(), static_cast<std::size_t>(length));
}

}  // namespace qcp::core

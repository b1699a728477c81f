#include "qcp/core/private_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "qcp/core/atomic_write.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/file_io.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/unique_fd.hpp"

namespace qcp::core {
namespace {

constexpr mode_t kPrivateMode = 0600;
constexpr auto kLockPoll = std::chrono::milliseconds{50};

// A file's directory, opened, and its name there: every later step is relative to that
// directory, so a path swapped underneath cannot redirect it.
struct Place {
  UniqueFd dir;
  std::string name;
  std::string path;  // for messages
};

[[noreturn]] void refuse(const std::string& path, std::string_view what, const std::string& why) {
  throw Failure(ExitCode::kUsage, std::string(what) + " " + one_line(path) + ": " + why);
}

[[noreturn]] void failed(const std::string& path, std::string_view what, std::string_view verb,
                         int error) {
  refuse(path, what, "cannot " + std::string(verb) + " it: " + std::strerror(error));
}

void make_parents(const std::filesystem::path& path, std::string_view what) {
  std::vector<std::filesystem::path> missing;
  std::error_code error;
  for (auto dir = path.parent_path(); !dir.empty() && !std::filesystem::exists(dir, error);
       dir = dir.parent_path()) {
    missing.push_back(dir);
  }
  for (auto dir = missing.rbegin(); dir != missing.rend(); ++dir) {
    if (::mkdir(dir->c_str(), 0700) != 0 && errno != EEXIST) {
      failed(dir->string(), what, "create the directory", errno);
    }
  }
}

// Another user who may change the directory could swap the file between our looking and our
// reading: refused unless the directory is ours or root's, and writable by no one else (or
// sticky, as /tmp is).
void check_directory(int dir, const std::string& path, std::string_view what) {
  struct stat status {};
  if (::fstat(dir, &status) != 0) {
    failed(path, what, "inspect the directory of", errno);
  }
  if (status.st_uid != ::geteuid() && status.st_uid != 0) {
    refuse(path, what,
           "is in a directory owned by uid " + std::to_string(status.st_uid) +
               ", who could replace it: use a directory of root's or of uid " +
               std::to_string(::geteuid()));
  }
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (status.st_mode & S_ISVTX) == 0) {
    refuse(path, what,
           "is in a directory that group or others may write to: chmod go-w the directory");
  }
}

// nullopt when the directory is missing (and not to be made).
std::optional<Place> place_of(const std::string& path, std::string_view what, bool make_dirs) {
  const auto full = std::filesystem::absolute(path).lexically_normal();
  if (!full.has_filename()) {
    refuse(path, what, "is a directory, not a file");
  }
  if (make_dirs) {
    make_parents(full, what);
  }
  UniqueFd dir(::open(full.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    if (errno == ENOENT && !make_dirs) {
      return std::nullopt;
    }
    failed(full.parent_path().string(), what, "open the directory of", errno);
  }
  check_directory(dir.get(), full.string(), what);
  return Place{std::move(dir), full.filename().string(), full.string()};
}

// Refuses what is at the name unless it is absent or a regular file of the caller's.
void check_ours(const struct stat& status, const Place& place, std::string_view what) {
  if (S_ISLNK(status.st_mode)) {
    refuse(place.path, what, "is a symbolic link, which is never followed for this file");
  }
  if (!S_ISREG(status.st_mode)) {
    refuse(place.path, what, "is not a regular file");
  }
  if (status.st_uid != ::geteuid()) {
    refuse(place.path, what,
           "is owned by uid " + std::to_string(status.st_uid) + ", not " +
               std::to_string(::geteuid()) + ": another user's file is never read or written");
  }
}

// false when nothing is there.
bool check_existing(const Place& place, std::string_view what) {
  struct stat status {};
  if (::fstatat(place.dir.get(), place.name.c_str(), &status, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    failed(place.path, what, "inspect", errno);
  }
  check_ours(status, place, what);
  return true;
}

std::string read_bounded(int fd, const std::string& path, std::string_view what,
                         std::size_t max_bytes) {
  std::string bytes;
  if (!read_all(fd, max_bytes, bytes)) {
    if (errno == EFBIG) {
      refuse(path, what, "is larger than " + std::to_string(max_bytes) + " bytes");
    }
    failed(path, what, "read", errno);
  }
  return bytes;
}

}  // namespace

namespace {

std::optional<std::string> read_own_file(const std::string& path, std::string_view what,
                                         std::size_t max_bytes, bool secret) {
  const auto place = place_of(path, what, false);
  if (!place || !check_existing(*place, what)) {
    return std::nullopt;
  }
  const UniqueFd file(::openat(place->dir.get(), place->name.c_str(),
                               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat status {};
  if (file.get() < 0 || ::fstat(file.get(), &status) != 0) {
    failed(place->path, what, "read", errno == ELOOP ? EPERM : errno);
  }
  check_ours(status, *place, what);  // what was opened, not what was looked at before
  if (secret && (status.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    static_cast<void>(std::snprintf(mode.data(), mode.size(), "%04o", status.st_mode & 07777));
    refuse(place->path, what,
           "is open to group or others (mode " + std::string(mode.data()) +
               "): a file that holds a password must be chmod 600");
  }
  return read_bounded(file.get(), place->path, what, max_bytes);
}

}  // namespace

std::optional<std::string> read_private_file(const std::string& path, std::string_view what,
                                             std::size_t max_bytes) {
  return read_own_file(path, what, max_bytes, false);
}

std::optional<std::string> read_secret_file(const std::string& path, std::string_view what,
                                            std::size_t max_bytes) {
  return read_own_file(path, what, max_bytes, true);
}

void write_private_file(const std::string& path, std::string_view what, std::string_view bytes) {
  const auto place = place_of(path, what, true);
  check_existing(*place, what);
  const auto error =
      write_atomically(place->dir.get(), place->name, bytes,
                       {.mode = kPrivateMode, .owner = std::nullopt, .before_replace = [&] {
                          check_existing(*place, what);
                        }});  // again, just before
  if (!error) {
    return;
  }
  switch (error->step) {
    case AtomicWriteStep::kCreate:
      failed(place->path, what, "create a temporary file beside", error->error);
    case AtomicWriteStep::kReplace:
      failed(place->path, what, "replace", error->error);
    case AtomicWriteStep::kReadBack:
      refuse(place->path, what, "what was read back differs from what was written");
    case AtomicWriteStep::kLanded:
      refuse(place->path, what, "another file was put in its place while it was written");
    case AtomicWriteStep::kWrite:
      break;
  }
  failed(place->path, what, "write", error->error);
}

bool remove_private_file(const std::string& path) {
  const auto place = place_of(path, "", false);
  if (!place) {
    return true;
  }
  struct stat status {};
  if (::fstatat(place->dir.get(), place->name.c_str(), &status, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT;
  }
  if (!S_ISREG(status.st_mode) || status.st_uid != ::geteuid()) {
    return false;
  }
  return ::unlinkat(place->dir.get(), place->name.c_str(), 0) == 0 || errno == ENOENT;
}

PrivateFileLock::PrivateFileLock(const std::string& path, std::string_view what,
                                 std::chrono::steady_clock::time_point deadline) {
  auto place = place_of(path + ".lock", what, true);
  UniqueFd fd(::openat(place->dir.get(), place->name.c_str(),
                       O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, kPrivateMode));
  struct stat status {};
  if (fd.get() < 0 || ::fstat(fd.get(), &status) != 0) {
    if (errno == ELOOP) {
      refuse(place->path, what, "is a symbolic link, which is never followed for this file");
    }
    failed(place->path, what, "open the lock", errno);
  }
  check_ours(status, *place, what);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      failed(place->path, what, "lock", errno);
    }
    if (std::chrono::steady_clock::now() + kLockPoll >= deadline) {
      refuse(place->path, what, "another writer held the lock past the deadline");
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  fd_ = std::move(fd);
}

PrivateFileLock::~PrivateFileLock() = default;

}  // namespace qcp::core

#include "qcp/install/host_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/unique_fd.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::install {
namespace {

// Symlinks followed in one path at most, as the kernel's own limit (ELOOP).
constexpr int kMaxSymlinks = 40;

using Fd = UniqueFd;

[[noreturn]] void fail(std::string_view verb, std::string_view path, int error) {
  throw Failure(ExitCode::kLookupFailed, "cannot " + std::string(verb) + " " + std::string(path) +
                                             ": " + std::strerror(error));
}

// The components of a path, without empty ones and ".", in reverse order (a stack: the next
// one is at the back).
std::vector<std::string> components_reversed(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    const auto part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    start = slash + 1;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

// Where a node path leads inside the root: the directory holding its last component, and that
// component's name (empty for the root itself).
struct Location {
  Fd dir;
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
std::optional<Location> locate(int root_fd, std::string_view path, const Walk& walk) {
  std::vector<Fd> chain;
  chain.emplace_back(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  std::vector<std::string> names;  // node path of chain.back(), for `created`
  auto pending = components_reversed(path);
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.back());
    pending.pop_back();
    if (part == "..") {
      if (chain.size() > 1) {
        chain.pop_back();
        names.pop_back();
      }
      continue;
    }
    const bool last = pending.empty();
    struct stat status {};
    if (::fstatat(chain.back().get(), part.c_str(), &status, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) {
        fail("read", path, errno);
      }
      if (last) {
        return Location{std::move(chain.back()), part};
      }
      if (!walk.create_parents) {
        return std::nullopt;
      }
      if (::mkdirat(chain.back().get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        fail("create a directory for", path, errno);
      }
      std::string made;
      for (const auto& name : names) {
        made += "/" + name;
      }
      walk.created->push_back(made + "/" + part);
      pending.push_back(part);  // now it exists: walk into it
      continue;
    }
    if (S_ISLNK(status.st_mode) && (!last || walk.follow_last)) {
      if (++links > kMaxSymlinks) {
        fail("resolve", path, ELOOP);
      }
      std::array<char, 4096> target{};
      const auto length =
          ::readlinkat(chain.back().get(), part.c_str(), target.data(), target.size());
      if (length < 0 || static_cast<std::size_t>(length) >= target.size()) {
        fail("resolve", path, length < 0 ? errno : ENAMETOOLONG);
      }
      const std::string_view text(target.data(), static_cast<std::size_t>(length));
      if (text.starts_with('/')) {
        chain.resize(1);
        names.clear();
      }
      auto more = components_reversed(text);
      pending.insert(pending.end(), more.begin(), more.end());
      if (pending.empty()) {  // a link to "/": the root itself
        return Location{std::move(chain.back()), ""};
      }
      continue;
    }
    if (last) {
      return Location{std::move(chain.back()), part};
    }
    if (!S_ISDIR(status.st_mode)) {
      fail("resolve", path, ENOTDIR);
    }
    Fd next(
        ::openat(chain.back().get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      fail("resolve", path, errno);
    }
    chain.push_back(std::move(next));
    names.push_back(part);
  }
  return Location{std::move(chain.back()), ""};
}

Location locate_existing_parent(int root_fd, std::string_view path, bool follow_last) {
  auto location = locate(root_fd, path, {.follow_last = follow_last});
  if (!location) {
    fail("write", path, ENOENT);
  }
  return std::move(*location);
}

std::string read_all(int fd, std::string_view path, std::size_t max_bytes) {
  std::string bytes;
  std::array<char, 65536> buffer{};
  for (;;) {
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail("read", path, errno);
    }
    if (n == 0) {
      return bytes;
    }
    bytes.append(buffer.data(), static_cast<std::size_t>(n));
    if (bytes.size() > max_bytes) {
      fail("read", path, EFBIG);
    }
  }
}

void write_all(int fd, std::string_view bytes, std::string_view path) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail("write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string temporary_name(std::string_view name) {
  std::array<unsigned char, 6> random{};
  if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) {
    random.fill(0);  // O_EXCL still keeps two writers apart
  }
  std::string suffix;
  for (const unsigned char byte : random) {
    constexpr const char* kDigits = "0123456789abcdef";
    suffix += kDigits[byte >> 4U];
    suffix += kDigits[byte & 0xfU];
  }
  return "." + std::string(name) + ".qcp-" + suffix;
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
    : root_fd_(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  if (root_fd_ < 0) {
    fail("open the host root", root, errno);
  }
}

RootedFiles::~RootedFiles() {
  ::close(root_fd_);
}

FileStatus RootedFiles::status(const std::string& path) const {
  const auto location = locate(root_fd_, path, {.follow_last = true});
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
    fail("read", path, errno);
  }
  const FileKind kind = S_ISREG(status.st_mode)   ? FileKind::kRegular
                        : S_ISDIR(status.st_mode) ? FileKind::kDirectory
                                                  : FileKind::kOther;
  return {kind, status.st_mode & 07777U};
}

std::optional<FileContent> RootedFiles::read(const std::string& path, std::size_t max_bytes) const {
  const auto location = locate(root_fd_, path, {.follow_last = true});
  if (!location) {
    return std::nullopt;
  }
  if (location->name.empty()) {
    fail("read", path, EISDIR);
  }
  const Fd file(::openat(location->dir.get(), location->name.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    fail("read", path, errno);
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    fail("read", path, errno);
  }
  if (!S_ISREG(status.st_mode)) {
    fail("read", path, S_ISDIR(status.st_mode) ? EISDIR : EINVAL);
  }
  return FileContent{read_all(file.get(), path, max_bytes), status.st_mode & 07777U};
}

void RootedFiles::write_atomic(const std::string& path, std::string_view bytes, mode_t mode) {
  const auto location = locate_existing_parent(root_fd_, path, true);
  if (location.name.empty()) {
    fail("write", path, EISDIR);
  }
  const int dir = location.dir.get();
  struct stat existing {};
  const bool replaces = ::fstatat(dir, location.name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  if (replaces && !S_ISREG(existing.st_mode)) {
    fail("replace", path, S_ISDIR(existing.st_mode) ? EISDIR : EINVAL);
  }
  const std::string temporary = temporary_name(location.name);
  {
    const Fd file(::openat(dir, temporary.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (file.get() < 0) {
      fail("write", path, errno);
    }
    try {
      write_all(file.get(), bytes, path);
      // The owner of the file replaced stays its owner; only root may give a file away.
      if (replaces && ::geteuid() == 0 &&
          ::fchown(file.get(), existing.st_uid, existing.st_gid) != 0) {
        fail("write", path, errno);
      }
      if (::fchmod(file.get(), mode) != 0 || ::fsync(file.get()) != 0) {
        fail("write", path, errno);
      }
    } catch (...) {
      ::unlinkat(dir, temporary.c_str(), 0);
      throw;
    }
  }
  if (::renameat(dir, temporary.c_str(), dir, location.name.c_str()) != 0) {
    const int error = errno;
    ::unlinkat(dir, temporary.c_str(), 0);
    fail("write", path, error);
  }
  const Fd directory(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0 || ::fsync(directory.get()) != 0) {
    fail("write", path, errno);
  }
  const Fd landed(::openat(dir, location.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (landed.get() < 0) {
    fail("read back", path, errno);
  }
  if (read_all(landed.get(), path, bytes.size()) != bytes) {
    throw Failure(ExitCode::kLookupFailed,
                  "cannot write " + path + ": what landed differs from what was written");
  }
}

void RootedFiles::remove_file(const std::string& path) {
  const auto location = locate(root_fd_, path, {.follow_last = false});
  if (!location || location->name.empty()) {
    return;
  }
  if (::unlinkat(location->dir.get(), location->name.c_str(), 0) != 0 && errno != ENOENT) {
    fail("remove", path, errno);
  }
}

std::vector<std::string> RootedFiles::make_directories(const std::string& path) {
  std::vector<std::string> created;
  const auto location =
      locate(root_fd_, path, {.follow_last = true, .create_parents = true, .created = &created});
  if (location && !location->name.empty()) {
    struct stat status {};
    if (::fstatat(location->dir.get(), location->name.c_str(), &status, 0) == 0) {
      if (!S_ISDIR(status.st_mode)) {
        fail("create the directory", path, EEXIST);
      }
    } else if (::mkdirat(location->dir.get(), location->name.c_str(), 0755) == 0) {
      created.push_back(path);
    } else {
      fail("create the directory", path, errno);
    }
  }
  return created;
}

bool RootedFiles::remove_directory(const std::string& path) {
  const auto location = locate(root_fd_, path, {.follow_last = false});
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
  fail("remove the directory", path, errno);
}

std::vector<std::string> RootedFiles::list(const std::string& path) const {
  const auto location = locate(root_fd_, path, {.follow_last = true});
  if (!location) {
    fail("list", path, ENOENT);
  }
  const int fd = location->name.empty()
                     ? ::openat(location->dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                     : ::openat(location->dir.get(), location->name.c_str(),
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    fail("list", path, errno);
  }
  DIR* directory = ::fdopendir(fd);
  if (directory == nullptr) {
    ::close(fd);
    fail("list", path, errno);
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(directory)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(directory);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace qcp::install

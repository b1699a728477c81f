#include "core/rooted_walk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "qcp/core/failure.hpp"

namespace qcp::core {
namespace {

// Symlinks followed in one path at most, as the kernel's own limit (ELOOP).
constexpr int kMaxSymlinks = 40;

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

}  // namespace

[[noreturn]] void fail_path(std::string_view verb, std::string_view path, int error) {
  throw Failure(ExitCode::kLookupFailed, "cannot " + std::string(verb) + " " + std::string(path) +
                                             ": " + std::strerror(error));
}

// Makes `part` in the directory `dir_fd` (node path `names`), recording it in `created`; one
// that another run made just now (EEXIST) is not ours and is not recorded.
void make_directory(int dir_fd, const std::vector<std::string>& names, const std::string& part,
                    std::string_view path, std::vector<std::string>& created) {
  if (::mkdirat(dir_fd, part.c_str(), 0755) == 0) {
    std::string made;
    for (const auto& name : names) {
      made += "/" + name;
    }
    created.push_back(made + "/" + part);
  } else if (errno != EEXIST) {
    fail_path("create a directory for", path, errno);
  }
}

// What the symlink `part` in `dir_fd` says, at most one page.
std::string link_target(int dir_fd, const std::string& part, std::string_view path) {
  std::array<char, 4096> target{};
  const auto length = ::readlinkat(dir_fd, part.c_str(), target.data(), target.size());
  if (length < 0 || static_cast<std::size_t>(length) >= target.size()) {
    fail_path("resolve", path, length < 0 ? errno : ENAMETOOLONG);
  }
  return {target.data(), static_cast<std::size_t>(length)};
}

// The directory `part` in `dir_fd`, never through a symlink (the walk resolved those itself).
UniqueFd open_directory(int dir_fd, const std::string& part, std::string_view path) {
  UniqueFd next(::openat(dir_fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (next.get() < 0) {
    fail_path("resolve", path, errno);
  }
  return next;
}

std::optional<Location> locate(int root_fd, std::string_view path, const Walk& walk) {
  std::vector<UniqueFd> chain;
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
        fail_path("read", path, errno);
      }
      if (last) {
        return Location{std::move(chain.back()), part};
      }
      if (!walk.create_parents) {
        return std::nullopt;
      }
      make_directory(chain.back().get(), names, part, path, *walk.created);
      pending.push_back(part);  // now it exists: walk into it
      continue;
    }
    if (S_ISLNK(status.st_mode) && (!last || walk.follow_last)) {
      if (++links > kMaxSymlinks) {
        fail_path("resolve", path, ELOOP);
      }
      const std::string text = link_target(chain.back().get(), part, path);
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
      fail_path("resolve", path, ENOTDIR);
    }
    chain.push_back(open_directory(chain.back().get(), part, path));
    names.push_back(part);
  }
  return Location{std::move(chain.back()), ""};
}

Location locate_existing_parent(int root_fd, std::string_view path, bool follow_last) {
  auto location = locate(root_fd, path, {.follow_last = follow_last});
  if (!location) {
    fail_path("write", path, ENOENT);
  }
  return std::move(*location);
}

}  // namespace qcp::core

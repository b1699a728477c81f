#include "qcp/core/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>

namespace qcp::core {

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

bool is_temporary_name(std::string_view name) {
  constexpr std::string_view kMarker = ".qcp-";
  constexpr std::size_t kSuffix = 12;
  const auto marker = name.rfind(kMarker);
  if (!name.starts_with('.') || marker == std::string_view::npos || marker == 0) {
    return false;
  }
  const auto suffix = name.substr(marker + kMarker.size());
  return suffix.size() == kSuffix && std::all_of(suffix.begin(), suffix.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool read_all(int fd, std::size_t max_bytes, std::string& out) {
  // Straight into `out`, sized from fstat for a regular file (a CA bundle is read on every
  // lookup), one byte more to see a file that grew, and never more than max_bytes + 1.
  struct stat status {};
  std::size_t size = 65536;
  if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode)) {
    size = static_cast<std::size_t>(std::max<off_t>(status.st_size, 0));
  }
  const std::size_t limit = max_bytes + (max_bytes < SIZE_MAX ? 1 : 0);  // one byte to see more
  const std::size_t start = out.size();
  std::size_t filled = 0;
  out.resize(start + std::min(size, max_bytes) + 1);
  for (;;) {
    if (start + filled == out.size()) {
      if (filled > max_bytes) {
        out.resize(start);
        errno = EFBIG;
        return false;
      }
      out.resize(start + std::min(std::max<std::size_t>(filled * 2, 4096), limit));
    }
    const auto n = ::read(fd, out.data() + start + filled, out.size() - start - filled);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      out.resize(start + filled);
      return n == 0;
    }
    filled += static_cast<std::size_t>(n);
  }
}

bool list_directory(UniqueFd directory, std::vector<DirectoryEntry>& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> stream(::fdopendir(directory.get()), &::closedir);
  if (!stream) {
    const int error = errno;
    directory.reset();
    errno = error;  // the caller words it
    return false;
  }
  static_cast<void>(directory.release());  // the stream owns it now
  errno = 0;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): this DIR stream is ours alone
  while (const dirent* entry = ::readdir(stream.get())) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    bool is_directory = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {  // some file systems do not say: ask, never following
      struct stat status {};
      is_directory =
          ::fstatat(::dirfd(stream.get()), entry->d_name, &status, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISDIR(status.st_mode);
    }
    out.push_back({.name = std::string(name), .is_directory = is_directory});
    errno = 0;
  }
  if (errno != 0) {
    const int error = errno;
    stream.reset();
    errno = error;
    return false;
  }
  std::sort(out.begin(), out.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
  return true;
}

}  // namespace qcp::core

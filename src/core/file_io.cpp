#include "qcp/core/file_io.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace qcp {

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
  std::array<char, 65536> buffer{};
  for (;;) {
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n == 0;
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      errno = EFBIG;
      return false;
    }
  }
}

}  // namespace qcp

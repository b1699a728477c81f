#include "qcp/core/fd_input.hpp"

#include <openssl/crypto.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "qcp/core/failure.hpp"

namespace qcp::core {

FdInputBuffer::~FdInputBuffer() {
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
}

bool FdInputBuffer::wait_readable(std::chrono::milliseconds timeout) {
  if (gptr() < egptr()) {
    return true;
  }
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd descriptor{fd_, POLLIN, 0};
    const int ready =
        ::poll(&descriptor, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready > 0) {
      return true;  // POLLIN, POLLHUP or POLLERR: the next read(2) returns at once
    }
    if (ready == 0 || errno != EINTR) {
      return ready != 0;  // a failing poll: let the read report the error
    }
  }
}

FdInputBuffer::int_type FdInputBuffer::underflow() {
  if (gptr() < egptr()) {
    return traits_type::to_int_type(*gptr());
  }
  ssize_t got = 0;
  do {
    got = ::read(fd_, buffer_.data(), buffer_.size());
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    throw Failure(
        ExitCode::kBadRequest,
        "stdin could not be read: " + std::error_code(errno, std::generic_category()).message());
  }
  if (got == 0) {
    return traits_type::eof();
  }
  setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
  return traits_type::to_int_type(*gptr());
}

}  // namespace qcp::core

#pragma once

#include <array>
#include <chrono>
#include <streambuf>

namespace qcp::core {

// stdin for production: a stream buffer over a file descriptor whose refill is one read(2), so
// a reader never blocks waiting for a full chunk, and which can wait for input with a timeout.
// The buffer is wiped when destroyed: it held the service-account token.
class FdInputBuffer final : public std::streambuf {
 public:
  explicit FdInputBuffer(int fd) noexcept : fd_(fd) {}
  FdInputBuffer(const FdInputBuffer&) = delete;
  FdInputBuffer& operator=(const FdInputBuffer&) = delete;
  FdInputBuffer(FdInputBuffer&&) = delete;
  FdInputBuffer& operator=(FdInputBuffer&&) = delete;
  ~FdInputBuffer() override;

  // true once a read would not block (bytes, EOF or an error are there); false when `timeout`
  // passed first.
  bool wait_readable(std::chrono::milliseconds timeout);

 protected:
  int_type underflow() override;

 private:
  int fd_;
  std::array<char, 16384> buffer_{};
};

}  // namespace qcp::core

#include "qcp/core/stream_input.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

#include "qcp/core/redact.hpp"

namespace qcp::core {

std::optional<std::string> read_bounded(std::istream& in, std::size_t max_bytes,
                                        const std::function<void()>& wait_for_input) {
  std::string data;
  std::array<char, 16384> chunk{};
  const WipeOnExit wipe_partial(data);  // on every way out; what is returned is a copy
  std::streambuf* buffer = in.rdbuf();
  while (true) {
    if (wait_for_input) {
      wait_for_input();
    }
    // sgetc() fills the buffer with one read at most; in_avail() is then what it holds.
    if (buffer == nullptr || buffer->sgetc() == std::char_traits<char>::eof()) {
      break;
    }
    const auto available =
        std::min<std::streamsize>(std::max<std::streamsize>(buffer->in_avail(), 1),
                                  static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(buffer->sgetn(chunk.data(), available));
    if (data.size() + got > max_bytes) {
      OPENSSL_cleanse(chunk.data(), chunk.size());
      return std::nullopt;
    }
    data.append(chunk.data(), got);
  }
  OPENSSL_cleanse(chunk.data(), chunk.size());
  std::string result = data;
  return result;
}

}  // namespace qcp::core

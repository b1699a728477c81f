#pragma once
// TlsConn: one server-side TLS connection of LoopbackHttpsServer.

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ossl.hpp"

namespace qcp::test {

// TLS on a non-blocking socket through memory BIOs: every wait also watches the stop eventfd,
// so nothing blocks server shutdown, and writes use MSG_NOSIGNAL (no SIGPIPE).
class TlsConn {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kLingerOnCloseMs{1000};
  static constexpr std::size_t kIoChunk = std::size_t{16} * 1024;

  TlsConn(detail::Fd fd, SSL_CTX* ctx, int stop_fd, std::chrono::milliseconds io_timeout)
      : fd_(std::move(fd)), stop_fd_(stop_fd), io_timeout_(io_timeout) {
    ssl_.reset(SSL_new(ctx));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (!ssl_ || rbio == nullptr || wbio == nullptr) {
      BIO_free(rbio);
      BIO_free(wbio);
      detail::throw_openssl("SSL_new");
    }
    SSL_set_bio(ssl_.get(), rbio, wbio);  // ssl_ owns both
    rbio_ = rbio;
    wbio_ = wbio;
    SSL_set_accept_state(ssl_.get());
  }

  bool handshake() {
    return drive([this] { return SSL_accept(ssl_.get()); }, deadline());
  }

  bool read_some(std::string& buf) {
    std::array<char, kIoChunk> tmp{};
    std::size_t n = 0;
    if (!drive([&] { return SSL_read_ex(ssl_.get(), tmp.data(), tmp.size(), &n); }, deadline())) {
      return false;
    }
    buf.append(tmp.data(), n);
    return true;
  }

  bool write_all(std::string_view data) {
    for (int guard = 0; !data.empty() && guard < (1 << 24); ++guard) {
      const std::size_t len = std::min(data.size(), kIoChunk);
      std::size_t written = 0;
      if (!drive([&] { return SSL_write_ex(ssl_.get(), data.data(), len, &written); },
                 deadline())) {
        return false;
      }
      data.remove_prefix(written);
    }
    return data.empty();
  }

  // Reads and discards until the peer closes, `limit` passes or the server stops.
  void hang(std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    std::array<char, 4096> tmp{};
    for (int guard = 0; guard < (1 << 20); ++guard) {
      if (wait(POLLIN, until) != Wait::kReady) {
        return;
      }
      const ssize_t n = ::recv(fd_.get(), tmp.data(), tmp.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        return;
      }
    }
  }

  // Waits `d`; false when the server is stopping.
  bool pause(std::chrono::milliseconds d) {
    if (d.count() <= 0) {
      return true;
    }
    pollfd pfd{stop_fd_, POLLIN, 0};
    const auto until = Clock::now() + d;
    for (int guard = 0; guard < 1024; ++guard) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) {
        return true;
      }
      const int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 60'000)));
      if (r > 0) {
        return false;
      }
    }
    return true;
  }

  // TLS close_notify, FIN, then drain what the client still sends (so close() does not turn
  // unread bytes into an RST), bounded.
  void close_gracefully() {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    flush(Clock::now() + std::chrono::milliseconds{1000});
    ::shutdown(fd_.get(), SHUT_WR);
    hang(kLingerOnCloseMs);
    fd_.reset();
  }

  void reset() {
    const linger lg{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    fd_.reset();
  }

  // Below TLS: waits for the client's first bytes (its ClientHello) and discards them.
  bool read_raw_once() {
    if (wait(POLLIN, deadline()) != Wait::kReady) {
      return false;
    }
    std::array<char, kIoChunk> tmp{};
    return ::read(fd_.get(), tmp.data(), tmp.size()) > 0;
  }

  // Below TLS: writes bytes as they are, then closes (FIN).
  void write_raw_and_close(std::string_view bytes) {
    while (!bytes.empty() && wait(POLLOUT, deadline()) == Wait::kReady) {
      const auto n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        break;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    fd_.reset();
  }

 private:
  enum class Wait { kReady, kStop, kTimeout, kError };

  [[nodiscard]] Clock::time_point deadline() const { return Clock::now() + io_timeout_; }

  Wait wait(short events, Clock::time_point until) {
    for (int guard = 0; guard < (1 << 20); ++guard) {
      std::array<pollfd, 2> fds{{{fd_.get(), events, 0}, {stop_fd_, POLLIN, 0}}};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) {
        return Wait::kTimeout;
      }
      const int r =
          ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 60'000)));
      if (r < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Wait::kError;
      }
      if ((fds[1].revents & POLLIN) != 0) {
        return Wait::kStop;
      }
      if ((fds[0].revents & (events | POLLERR | POLLHUP)) != 0) {
        return Wait::kReady;
      }
    }
    return Wait::kTimeout;
  }

  // Sends everything OpenSSL has queued in the write BIO.
  bool flush(Clock::time_point until) {
    std::array<char, kIoChunk> tmp{};
    for (int guard = 0; guard < (1 << 20) && BIO_ctrl_pending(wbio_) > 0; ++guard) {
      const int n = BIO_read(wbio_, tmp.data(), static_cast<int>(tmp.size()));
      if (n <= 0) {
        return false;
      }
      std::string_view pending(tmp.data(), static_cast<std::size_t>(n));
      for (int inner = 0; !pending.empty() && inner < (1 << 20); ++inner) {
        const ssize_t sent = ::send(fd_.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
        if (sent > 0) {
          pending.remove_prefix(static_cast<std::size_t>(sent));
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          if (wait(POLLOUT, until) != Wait::kReady) {
            return false;
          }
        } else if (!(sent < 0 && errno == EINTR)) {
          return false;
        }
      }
      if (!pending.empty()) {
        return false;
      }
    }
    return true;
  }

  // Feeds received bytes to OpenSSL; false on EOF, error, stop or timeout.
  bool fill(Clock::time_point until) {
    std::array<char, kIoChunk> tmp{};
    for (int guard = 0; guard < (1 << 20); ++guard) {
      const ssize_t n = ::recv(fd_.get(), tmp.data(), tmp.size(), 0);
      if (n > 0) {
        return BIO_write(rbio_, tmp.data(), static_cast<int>(n)) == static_cast<int>(n);
      }
      if (n == 0) {
        return false;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return false;
      }
      if (wait(POLLIN, until) != Wait::kReady) {
        return false;
      }
    }
    return false;
  }

  template <typename Op>
  bool drive(Op&& op, Clock::time_point until) {
    for (int guard = 0; guard < (1 << 20); ++guard) {
      ERR_clear_error();
      const int r = op();
      const int err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), r);
      if (!flush(until)) {
        return false;
      }
      if (r > 0) {
        return true;
      }
      if (err != SSL_ERROR_WANT_READ || !fill(until)) {
        ERR_clear_error();
        return false;
      }
    }
    return false;
  }

  detail::Fd fd_;
  detail::SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  int stop_fd_;
  std::chrono::milliseconds io_timeout_;
};

}  // namespace qcp::test

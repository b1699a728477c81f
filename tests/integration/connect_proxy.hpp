#pragma once
// A minimal HTTP CONNECT proxy on 127.0.0.1 for proxy tests: records each CONNECT target, then
// relays bytes both ways until either side closes. TLS stays end to end (it never sees plaintext).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace qcp::test {

class ConnectProxy {
 public:
  ConnectProxy() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;
  ConnectProxy(ConnectProxy&&) = delete;
  ConnectProxy& operator=(ConnectProxy&&) = delete;
  ~ConnectProxy() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::vector<std::string> targets() const {
    const std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        return;
      }
      handle(client);  // one tunnel at a time is all the tests need
      ::close(client);
    }
  }

  void handle(int client) {
    std::string head;
    std::array<char, 4096> buffer{};
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
      const auto n = ::recv(client, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        return;
      }
      head.append(buffer.data(), static_cast<std::size_t>(n));
    }
    if (!head.starts_with("CONNECT ")) {
      return;
    }
    const auto target = head.substr(8, head.find(' ', 8) - 8);
    {
      const std::lock_guard lock(mutex_);
      targets_.push_back(target);
    }
    const auto colon = target.rfind(':');
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1))));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);  // tests only tunnel to loopback
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(upstream);
      return;
    }
    const std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
    ::send(client, established.data(), established.size(), MSG_NOSIGNAL);
    std::array<pollfd, 2> fds{{{client, POLLIN, 0}, {upstream, POLLIN, 0}}};
    for (int rounds = 0; rounds < 100000 && !stopping_; ++rounds) {
      if (::poll(fds.data(), fds.size(), 10'000) <= 0) {
        break;
      }
      bool closed = false;
      for (std::size_t i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          const auto n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
          if (n <= 0 || ::send(fds[1 - i].fd, buffer.data(), static_cast<std::size_t>(n),
                               MSG_NOSIGNAL) != n) {
            closed = true;
          }
        }
      }
      if (closed) {
        break;
      }
    }
    ::close(upstream);
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::thread thread_;
};

}  // namespace qcp::test

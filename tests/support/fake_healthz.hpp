#pragma once
// FakeHealthz: the kubelet's healthz as install's checked restart polls it, a real HTTP
// listener on 127.0.0.1: 200 "ok" to GET /healthz while its state file says "up", 500 otherwise
// (a file, so that a fake systemctl run as another process can bring the "kubelet" up).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace qcp::test {

// Answers every request with 200 while `state_file` says "up", 500 otherwise.
class FakeHealthz {
 public:
  explicit FakeHealthz(std::filesystem::path state_file) : state_file_(std::move(state_file)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), size), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  FakeHealthz(const FakeHealthz&) = delete;
  FakeHealthz& operator=(const FakeHealthz&) = delete;
  FakeHealthz(FakeHealthz&&) = delete;
  FakeHealthz& operator=(FakeHealthz&&) = delete;
  ~FakeHealthz() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd fd{listener_, POLLIN, 0};
      if (::poll(&fd, 1, 50) <= 0) {
        continue;
      }
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      std::array<char, 1024> request{};
      const auto got = ::recv(client, request.data(), request.size(), 0);
      ++requests_;
      std::ifstream in(state_file_);
      std::string state;
      in >> state;
      const bool up =
          got > 0 && std::string_view(request.data()).starts_with("GET /healthz ") && state == "up";
      const std::string answer = up ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                    : "HTTP/1.1 500 Internal Server Error\r\n\r\n";
      ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  std::filesystem::path state_file_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace qcp::test

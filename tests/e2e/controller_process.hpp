#pragma once
// The static binary's `controller` as the e2e tests run it: a kubeconfig for the fake API server,
// loopback ports for its endpoints, a scrape of them, and a replica run on a thread of the test's
// (stopped with SIGTERM, or killed with SIGKILL as a node failure would).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_kube_api.hpp"
#include "pki.hpp"
#include "subprocess.hpp"

namespace qcp::test {

// A loopback port free now (bound and let go): where a replica's endpoints are asked for.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  static_cast<void>(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address));
  static_cast<void>(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length));
  ::close(fd);
  return ntohs(address.sin_port);
}

// GET http://127.0.0.1:PORT/PATH as a probe or a scrape sends it: the whole answer, or "".
inline std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: e2e\r\n\r\n";
    static_cast<void>(::send(fd, request.data(), request.size(), MSG_NOSIGNAL));
    std::array<char, 4096> buffer{};
    for (ssize_t got; (got = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0;) {
      reply.append(buffer.data(), static_cast<std::size_t>(got));
    }
  }
  ::close(fd);
  return reply;
}

// One sample's value from a scrape ("name 123\n"), or nullopt.
inline std::optional<double> sample_of(const std::string& scrape, const std::string& name) {
  const auto at = scrape.find("\n" + name + " ");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::stod(scrape.substr(at + name.size() + 2));
}

// A kubeconfig for `api`: its CA inline, `token` as the bearer token. Returns its path.
inline std::string write_kubeconfig(const std::filesystem::path& path, const FakeKubeApi& api,
                                    const TestPki& pki, const std::string& token) {
  std::ofstream(path)
      << ("apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n"
          "  cluster:\n    server: " +
          api.base_url() + "\n    certificate-authority-data: " + base64_encode(pki.ca_pem()) +
          "\nusers:\n- name: controller\n  user:\n    token: " + token +
          "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: controller\n");
  return path.string();
}

// A controller process run on a thread of the test's: its pid once started, its result once
// stopped.
class Replica {
 public:
  explicit Replica(std::vector<std::string> args,
                   std::chrono::milliseconds deadline = std::chrono::seconds{120})
      : thread_([this, deadline, args = std::move(args)] {
          ProcessOptions options;
          options.deadline = deadline;
          options.on_spawn = [this](pid_t pid) { pid_ = pid; };
          result_ = run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "", options);
        }) {
    while (pid_.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
  ~Replica() { stop(); }
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  Replica(Replica&&) = delete;
  Replica& operator=(Replica&&) = delete;
  // SIGTERM (a rollout), or SIGKILL (the node gone): its result once it has ended.
  const ProcessResult& stop(int signal = SIGTERM) {
    if (thread_.joinable()) {
      ::kill(pid_.load(), signal);
      thread_.join();
    }
    return result_;
  }

 private:
  std::atomic<pid_t> pid_{0};
  ProcessResult result_;
  std::thread thread_;
};

}  // namespace qcp::test

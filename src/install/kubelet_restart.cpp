#include "qcp/install/kubelet_restart.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <thread>

#include "install/kubelet_process.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/unique_fd.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr const char* kOwnMountNamespace = "/proc/self/ns/mnt";
constexpr auto kHealthPollInterval = std::chrono::milliseconds{500};
constexpr auto kHealthAttemptTimeout = std::chrono::seconds{2};
constexpr auto kVersionTimeout = std::chrono::seconds{10};

// The namespace link's target, or a Failure saying what could not be read and why (a pod
// with hostPID and privileged can still be refused by an LSM: the errno tells).
std::string namespace_link(const std::string& path, std::string_view program) {
  std::error_code error;
  auto target = std::filesystem::read_symlink(path, error).string();
  if (error) {
    throw Failure(ExitCode::kUsage, "cannot run " + std::string(program) +
                                        " on the node: cannot read " + path + ": " +
                                        error.message());
  }
  return target;
}

UniqueFd tcp_socket() {
  return UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

int millis_until(SteadyTime deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(left.count(), 0));
}

bool wait_for(int fd, short events, SteadyTime deadline) {
  pollfd descriptor{fd, events, 0};
  for (;;) {
    const int ready = ::poll(&descriptor, 1, millis_until(deadline));
    if (ready > 0) {
      return true;
    }
    if (ready == 0 || errno != EINTR) {
      return false;
    }
  }
}

bool connect_by(int fd, const HealthzEndpoint& endpoint, SteadyTime deadline) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  if (::inet_pton(AF_INET, endpoint.address.c_str(), &address.sin_addr) != 1) {
    return false;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    return true;
  }
  if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)) {
    return false;
  }
  int error = 0;
  socklen_t size = sizeof error;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0;
}

bool send_all(int fd, std::string_view bytes, SteadyTime deadline) {
  while (!bytes.empty()) {
    if (!wait_for(fd, POLLOUT, deadline)) {
      return false;
    }
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno != EINTR && errno != EAGAIN) {
      return false;
    }
    bytes.remove_prefix(sent > 0 ? static_cast<std::size_t>(sent) : 0);
  }
  return true;
}

// The status line's code, once the first line has arrived ("HTTP/1.1 200 OK").
bool answered_ok(int fd, SteadyTime deadline) {
  std::string head;
  std::array<char, 512> chunk{};
  while (head.find('\n') == std::string::npos && head.size() < 4096) {
    if (!wait_for(fd, POLLIN, deadline)) {
      return false;
    }
    const ssize_t got = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
      break;
    }
    head.append(chunk.data(), got > 0 ? static_cast<std::size_t>(got) : 0);
  }
  return head.starts_with("HTTP/1.") && head.size() >= 12 && head.compare(8, 4, " 200") == 0;
}

}  // namespace

std::string HostNodeCommands::node_namespace(std::string_view program) const {
  if (host_root_ == "/") {
    return "";
  }
  const std::string node = namespace_link(init_namespace_, program);
  if (node == namespace_link(kOwnMountNamespace, program)) {
    throw Failure(ExitCode::kUsage,
                  "cannot run " + std::string(program) +
                      " on the node: PID 1 is not the node's init or shares this container's "
                      "mount namespace (the pod needs hostPID: true and privileged: true)");
  }
  return init_namespace_;
}

void HostNodeCommands::check_reachable(std::string_view program) const {
  static_cast<void>(node_namespace(program));
}

ProcessResult HostNodeCommands::run(const std::vector<std::string>& argv, SteadyTime deadline) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.environment = {"PATH=" + spec.search_path, "LC_ALL=C"};
  spec.deadline = deadline;
  spec.mount_namespace = node_namespace(argv.front());
  return run_process(spec);
}

std::string HealthzEndpoint::url() const {
  return "http://" + address + ":" + std::to_string(port) + path;
}

std::optional<HealthzEndpoint> parse_healthz_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return std::nullopt;
  }
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  HealthzEndpoint endpoint;
  endpoint.address = std::string(authority.substr(0, colon));
  if (endpoint.address == "localhost") {
    endpoint.address = "127.0.0.1";
  }
  in_addr parsed{};
  const std::string_view port = authority.substr(colon + 1);
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  if (::inet_pton(AF_INET, endpoint.address.c_str(), &parsed) != 1 || !is_port(port) ||
      error != std::errc() || end != port.data() + port.size()) {
    return std::nullopt;
  }
  endpoint.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (one_line(endpoint.path) != endpoint.path || endpoint.path.find(' ') != std::string::npos) {
    return std::nullopt;
  }
  return endpoint;
}

bool kubelet_healthy(const HealthzEndpoint& endpoint, SteadyTime deadline) {
  const UniqueFd socket = tcp_socket();
  return socket.get() >= 0 && connect_by(socket.get(), endpoint, deadline) &&
         send_all(socket.get(),
                  "GET " + endpoint.path + " HTTP/1.1\r\nHost: " + endpoint.address + ":" +
                      std::to_string(endpoint.port) + "\r\nConnection: close\r\n\r\n",
                  deadline) &&
         answered_ok(socket.get(), deadline);
}

std::string restart_kubelet(NodeCommands& node, const RestartSettings& settings) {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + settings.timeout;
  const std::string command = "systemctl restart " + settings.unit;
  const auto result = node.run({"systemctl", "restart", settings.unit}, deadline);
  if (!result.succeeded()) {
    throw Failure(ExitCode::kLookupFailed, command + " failed (" + result.describe() + ")" +
                                               (result.err.empty() ? "" : ": " + result.err));
  }
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (kubelet_healthy(settings.healthz, std::min(deadline, now + kHealthAttemptTimeout))) {
      const auto took = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - started);
      return "restarted the kubelet (" + command + "): healthy at " + settings.healthz.url() +
             " after " + format_human(took);
    }
    if (std::chrono::steady_clock::now() + kHealthPollInterval >= deadline) {
      throw Failure(ExitCode::kLookupFailed, "the kubelet was not healthy at " +
                                                 settings.healthz.url() + " within " +
                                                 format_human(settings.timeout) + " of " + command);
    }
    std::this_thread::sleep_for(kHealthPollInterval);
  }
}

std::string running_kubelet_version(const HostFiles& files, NodeCommands& node) {
  const auto kubelet = trusted_kubelet(files);
  if (kubelet.pid.empty()) {
    throw Failure(ExitCode::kUsage,
                  "no kubelet process in the node's /proc" +
                      (kubelet.skipped.empty() ? "" : " (" + kubelet.skipped + ")"));
  }
  const auto result = node.run({kubelet.executable, "--version"},
                               std::chrono::steady_clock::now() + kVersionTimeout);
  const auto at = result.out.find(" v1.");
  if (!result.succeeded() || at == std::string::npos) {
    throw Failure(ExitCode::kUsage, kubelet.executable + " --version (the kubelet, pid " +
                                        kubelet.pid + ") did not say its version (" +
                                        result.describe() + ")");
  }
  const auto end = result.out.find_first_of(" \n", at + 1);
  return result.out.substr(at + 1, end == std::string::npos ? end : end - at - 1);
}

}  // namespace qcp::install

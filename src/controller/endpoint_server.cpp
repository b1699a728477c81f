#include "qcp/controller/endpoint_server.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::controller {
namespace {

constexpr std::size_t kMaxRequest = 4096;  // a probe's request is a few hundred bytes
constexpr int kStopCheckMs = 200;

Failure bad_address(std::string_view flag, const std::string& address, const std::string& why) {
  return Failure(ExitCode::kUsage,
                 fmt::format("controller: {} \"{}\" {}", flag, one_line(address), why));
}

std::uint16_t port_of(std::string_view flag, const std::string& address, std::string_view text) {
  constexpr unsigned long kMaxPort = 65535;
  if (text.empty() || text.size() > 5 ||
      text.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(text)) > kMaxPort) {
    throw bad_address(flag, address, "must be [IP]:PORT, such as :8081");
  }
  return static_cast<std::uint16_t>(std::stoul(std::string(text)));
}

// ":8081" listens on every interface (IPv6 and IPv4 where the node has IPv6), "IP:PORT" and
// "[IPv6]:PORT" on that address only. Never a name: nothing is resolved.
sockaddr_storage socket_address(std::string_view flag, const std::string& address,
                                socklen_t& length) {
  sockaddr_storage storage{};
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw bad_address(flag, address, "must be [IP]:PORT, such as :8081");
  }
  const std::uint16_t port = port_of(flag, address, std::string_view(address).substr(colon + 1));
  std::string host = address.substr(0, colon);
  if (host.empty() || (host.front() == '[' && host.back() == ']')) {
    auto& ipv6 = reinterpret_cast<sockaddr_in6&>(storage);
    ipv6.sin6_family = AF_INET6;
    ipv6.sin6_port = htons(port);
    ipv6.sin6_addr = in6addr_any;
    if (!host.empty() &&
        ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &ipv6.sin6_addr) != 1) {
      throw bad_address(flag, address, "holds no IPv6 address");
    }
    length = sizeof(sockaddr_in6);
    return storage;
  }
  auto& ipv4 = reinterpret_cast<sockaddr_in&>(storage);
  ipv4.sin_family = AF_INET;
  ipv4.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &ipv4.sin_addr) != 1) {
    throw bad_address(flag, address, "holds no IP address (a name is not resolved)");
  }
  length = sizeof(sockaddr_in);
  return storage;
}

UniqueFd listen_on(std::string_view flag, const std::string& address, sockaddr_storage storage,
                   socklen_t length) {
  UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0 && storage.ss_family == AF_INET6 && address.front() == ':') {
    // No IPv6 on this node: every IPv4 interface instead.
    sockaddr_storage ipv4_storage{};
    auto& ipv4 = reinterpret_cast<sockaddr_in&>(ipv4_storage);
    ipv4.sin_family = AF_INET;
    ipv4.sin_port = reinterpret_cast<sockaddr_in6&>(storage).sin6_port;
    ipv4.sin_addr.s_addr = htonl(INADDR_ANY);
    return listen_on(flag, "0.0.0.0" + address, ipv4_storage, sizeof(sockaddr_in));
  }
  const int on = 1;
  const int off = 0;
  if (fd.get() < 0 || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      (storage.ss_family == AF_INET6 &&
       ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) ||
      ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0 ||
      ::listen(fd.get(), SOMAXCONN) != 0) {
    throw bad_address(flag, address, std::string("cannot be listened on: ") + std::strerror(errno));
  }
  return fd;
}

// The request line's path, once the head has arrived; "" for what is no GET.
std::string requested_path(int connection) {
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + EndpointServer::kReadTimeout;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxRequest) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{.fd = connection, .events = POLLIN, .revents = 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      return {};
    }
    std::array<char, 1024> buffer{};
    const auto got = ::recv(connection, buffer.data(), buffer.size(), 0);
    if (got <= 0) {
      return {};
    }
    head.append(buffer.data(), static_cast<std::size_t>(got));
  }
  if (!head.starts_with("GET ")) {
    return {};
  }
  const auto end = head.find(' ', 4);
  return end == std::string::npos ? std::string() : head.substr(4, end - 4);
}

// The whole reply, sent without blocking: a client that does not read loses the rest, not us.
void answer(int connection, const EndpointReply& reply) {
  const char* reason = reply.status == 200   ? "OK"
                       : reply.status == 503 ? "Service Unavailable"
                                             : "Not Found";
  const std::string text = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      reply.status, reason, reply.content_type, reply.body.size(), reply.body);
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + EndpointServer::kReadTimeout;
  while (sent < text.size() && std::chrono::steady_clock::now() < deadline) {
    const auto wrote =
        ::send(connection, text.data() + sent, text.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (wrote > 0) {
      sent += static_cast<std::size_t>(wrote);
      continue;
    }
    pollfd writable{.fd = connection, .events = POLLOUT, .revents = 0};
    if ((wrote < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
        ::poll(&writable, 1, kStopCheckMs) < 0) {
      return;
    }
  }
}

}  // namespace

void check_bind_address(std::string_view flag, const std::string& address) {
  socklen_t length = 0;
  static_cast<void>(socket_address(flag, address, length));
}

EndpointReply probe_reply(const std::string& problem) {
  return {.status = problem.empty() ? 200 : 503,
          .content_type = "text/plain; charset=utf-8",
          .body = problem.empty() ? "ok\n" : problem + "\n"};
}

EndpointServer::EndpointServer(std::string_view flag, const std::string& address,
                               EndpointRoutes routes)
    : routes_(std::move(routes)) {
  socklen_t length = 0;
  const auto storage = socket_address(flag, address, length);
  listener_ = listen_on(flag, address, storage, length);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) == 0) {
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                              : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  }
}

void EndpointServer::run(const StopFlag& stop) {
  while (!stop.requested()) {
    pollfd ready{.fd = listener_.get(), .events = POLLIN, .revents = 0};
    if (::poll(&ready, 1, kStopCheckMs) <= 0) {
      continue;
    }
    const UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.get() >= 0) {
      serve(connection.get());
    }
  }
}

void EndpointServer::serve(int connection) const {
  const std::string path = requested_path(connection);
  const auto route = routes_.find(std::string_view(path).substr(0, path.find('?')));
  if (route == routes_.end()) {
    std::string known;
    for (const auto& [name, unused] : routes_) {
      known += (known.empty() ? "" : " or ") + name;
    }
    answer(connection, {.status = 404,
                        .content_type = "text/plain; charset=utf-8",
                        .body = "not found: " + known + "\n"});
    return;
  }
  answer(connection, route->second());
}

}  // namespace qcp::controller

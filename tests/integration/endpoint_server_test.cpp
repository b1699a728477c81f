// Issue 21: the controller's probe endpoints over a real loopback socket: /healthz and /readyz
// answer 200 "ok" or 503 with the reason, anything else 404; a client that sends nothing, or
// an endless request line, is cut off without holding the next probe; bad addresses are usage
// errors naming the flag.
#include "qcp/controller/health_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "qcp/core/failure.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

std::string round_trip(std::uint16_t port, const std::string& request) {
  const int fd = connect_to(port);
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  std::array<char, 1024> buffer{};
  for (ssize_t got; (got = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0;) {
    reply.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(fd);
  return reply;
}

std::string get(std::uint16_t port, const std::string& path) {
  return round_trip(
      port, "GET " + path + " HTTP/1.1\r\nHost: probe\r\nUser-Agent: kube-probe/1.36\r\n\r\n");
}

class Health : public ::testing::Test {
 protected:
  Health()
      : server_("127.0.0.1:0", {.alive = [] { return std::string(); },
                                .ready =
                                    [this] {
                                      return synced_.load() ? std::string()
                                                            : std::string("not listed yet");
                                    }}) {
    thread_ = std::thread([this] { server_.run(stop_); });
  }
  ~Health() override {
    stop_.request();
    thread_.join();
  }
  Health(const Health&) = delete;
  Health& operator=(const Health&) = delete;
  Health(Health&&) = delete;
  Health& operator=(Health&&) = delete;

  std::atomic<bool> synced_{false};
  controller::HealthServer server_;
  core::StopFlag stop_;
  std::thread thread_;
};

TEST_F(Health, ProbesAnswerWhatTheChecksSay) {
  ASSERT_NE(server_.port(), 0);
  EXPECT_THAT(get(server_.port(), "/healthz"), StartsWith("HTTP/1.1 200 OK\r\n"));
  const auto unready = get(server_.port(), "/readyz");
  EXPECT_THAT(unready, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(unready, HasSubstr("\r\n\r\nnot listed yet\n"));
  synced_ = true;
  const auto ready = get(server_.port(), "/readyz?verbose");
  EXPECT_THAT(ready, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ready, HasSubstr("Content-Length: 3\r\n"));
  EXPECT_THAT(ready, HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(get(server_.port(), "/metrics"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(round_trip(server_.port(), "POST /healthz HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 404"));
}

TEST_F(Health, ASilentOrEndlessClientIsCutOffAndTheNextProbeIsServed) {
  const int silent = connect_to(server_.port());
  const auto started = std::chrono::steady_clock::now();
  std::thread endless([port = server_.port()] {
    const int fd = connect_to(port);
    const std::string junk(64 * 1024, 'a');
    static_cast<void>(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL));
    ::close(fd);
  });
  EXPECT_THAT(get(server_.port(), "/healthz"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            2 * controller::HealthServer::kReadTimeout + 1s);
  endless.join();
  ::close(silent);
}

TEST(HealthAddress, WhatIsNoIpAndPortIsAUsageErrorNamingTheFlag) {
  const controller::HealthChecks none{.alive = [] { return std::string(); },
                                      .ready = [] { return std::string(); }};
  for (const char* bad : {"8081", "localhost:8081", ":99999", ":80a", "[nope]:1", "1.2.3:4"}) {
    try {
      controller::HealthServer server(bad, none);
      ADD_FAILURE() << bad;
    } catch (const core::Failure& failure) {
      EXPECT_EQ(failure.code(), core::ExitCode::kUsage);
      EXPECT_THAT(failure.what(), HasSubstr("--health-probe-bind-address")) << bad;
    }
  }
  const controller::HealthServer any(":0", none);
  EXPECT_NE(any.port(), 0);
}

}  // namespace
}  // namespace qcp::test

// Issues 21 and 25: the controller's plain-HTTP endpoints over a real loopback socket: /healthz
// and /readyz answer 200 "ok" or 503 with the reason, /metrics the text format whole however
// large, anything else 404; a client that sends nothing, or an endless request line, is cut off
// without holding the next request; bad addresses are usage errors naming their flag.
#include "qcp/controller/endpoint_server.hpp"

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
      : server_("--health-probe-bind-address", "127.0.0.1:0",
                {{"/healthz", [] { return controller::probe_reply(""); }},
                 {"/readyz",
                  [this] { return controller::probe_reply(synced_ ? "" : "not listed yet"); }},
                 {"/big", [] {
                    return controller::EndpointReply{.status = 200,
                                                     .content_type = "text/plain; version=0.0.4",
                                                     .body = std::string(kBig, 'm')};
                  }}}) {
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

  static constexpr std::size_t kBig = 3 * 1024 * 1024;  // more than a socket buffer holds
  std::atomic<bool> synced_{false};
  controller::EndpointServer server_;
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
  const auto unknown = get(server_.port(), "/metrics");
  EXPECT_THAT(unknown, StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(unknown, HasSubstr("not found: /big or /healthz or /readyz\n"));
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
            2 * controller::EndpointServer::kReadTimeout + 1s);
  endless.join();
  ::close(silent);
}

TEST_F(Health, AnAnswerLargerThanTheSocketBufferArrivesWhole) {
  const auto reply = get(server_.port(), "/big");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Type: text/plain; version=0.0.4\r\n"));
  const auto body = reply.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(reply.size() - body - 4, kBig);
}

TEST(EndpointAddress, WhatIsNoIpAndPortIsAUsageErrorNamingItsFlag) {
  for (const char* flag : {"--health-probe-bind-address", "--metrics-bind-address"}) {
    for (const char* bad : {"8081", "localhost:8081", ":99999", ":80a", "[nope]:1", "1.2.3:4"}) {
      try {
        controller::EndpointServer server(flag, bad, {});
        ADD_FAILURE() << bad;
      } catch (const core::Failure& failure) {
        EXPECT_EQ(failure.code(), core::ExitCode::kUsage);
        EXPECT_THAT(failure.what(), HasSubstr(flag)) << bad;
      }
    }
  }
  const controller::EndpointServer any("--metrics-bind-address", ":0", {});
  EXPECT_NE(any.port(), 0);
}

}  // namespace
}  // namespace qcp::test

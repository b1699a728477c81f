// Network faults injected by the fake Quay over real HTTPS: retries, deadlines, bounded reads,
// redirects. Each lookup runs the whole pipeline through run() with the libcurl client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connect_proxy.hpp"
#include "harness.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr std::size_t k64MiB = std::size_t{64} << 20;

class Network : public ::testing::Test {
 protected:
  Network() : ca_file_(pki_.write_ca(dir_.path()).string()) {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:app:puller", {}}});
    token_ = quay_.mint_service_account_token("app", "puller");
  }

  struct Timed {
    Outcome outcome;
    std::chrono::milliseconds elapsed;
  };

  Timed lookup(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--ca-file", ca_file_, "--log-level", "trace"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const auto started = Steady::now();
    auto outcome = run_plugin(make_request(quay_.host() + "/team/app", token_,
                                           {{"quay.io/federated-robot-account", kRobot}}),
                              args);
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - started);
    expect_no_leak(outcome.err, {token_});
    if (outcome.exit_code != 0) {
      EXPECT_EQ(outcome.out, "");
    }
    return {outcome, elapsed};
  }

  // Every request to the federation endpoint gets this reply.
  void always(const Reply& reply) {
    quay_.set_handler([reply](const RecordedRequest& request) -> std::optional<Reply> {
      if (request.path == "/oauth2/federation/robot/token") {
        return reply;
      }
      return std::nullopt;
    });
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
  std::string token_;
};

TEST_F(Network, ServerErrorThenSuccess) {
  quay_.push_reply(Reply::json(500, {{"message", "boom"}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(quay_.request_count(), 2U);
}

TEST_F(Network, TwoGatewayErrorsThenSuccess) {
  quay_.script(
      {Reply::html(503, "<html>unavailable</html>"), Reply::html(502, "<html>bad gateway</html>")});
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(quay_.request_count(), 3U);
}

TEST_F(Network, ConnectionResetThenSuccess) {
  quay_.push_reply(Reply::reset());
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(quay_.pending_replies(), 0U);
}

TEST_F(Network, ClosedWithoutAnswerThenSuccess) {
  quay_.push_reply(Reply::close_without_response());
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
}

TEST_F(Network, TooManyRequestsHonoursRetryAfter) {
  quay_.push_reply(Reply::json(429, {{"error", "slow_down"}}, {{"Retry-After", "1"}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(quay_.request_count(), 2U);
  EXPECT_GE(elapsed, 1000ms);  // the retry waited as asked
}

TEST_F(Network, RetryAfterBeyondTheDeadlineFailsAtOnce) {
  quay_.push_reply(
      Reply::json(503, {{"error", "temporarily_unavailable"}}, {{"Retry-After", "30"}}));
  const auto [outcome, elapsed] = lookup({"--timeout", "5s"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err,
              HasSubstr("Quay asked to retry after 30s, beyond the --timeout deadline"));
  EXPECT_EQ(quay_.request_count(), 1U);
  EXPECT_LT(elapsed, 5000ms);
}

TEST_F(Network, EndlessServerErrorsGiveUpInsideTheDeadline) {
  always(Reply::json(500, {{"message", "still broken"}}));
  const auto [outcome, elapsed] = lookup({"--timeout", "3s", "--retries", "10"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("(HTTP 500): still broken"));
  EXPECT_LE(quay_.request_count(), 11U);
  EXPECT_GE(quay_.request_count(), 2U);
  EXPECT_LT(elapsed, 3500ms);
}

TEST_F(Network, BoundedAttemptsWithTheDefaultRetryCount) {
  always(Reply::json(502, {{"message", "bad gateway"}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(quay_.request_count(), 4U);
  EXPECT_THAT(outcome.err, HasSubstr("(after 4 attempts)"));
}

TEST_F(Network, AcceptThenHangIsAbandonedAtTheDeadline) {
  always(Reply::hang(60s));
  const auto [outcome, elapsed] = lookup({"--timeout", "2s"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("did not answer within the deadline (--timeout 2s)"));
  EXPECT_GE(elapsed, 1900ms);
  EXPECT_LT(elapsed, 2600ms);
}

TEST_F(Network, HangAfterHeadersIsAbandonedAtTheDeadline) {
  Reply reply = Reply::json(200, {{"token", "x"}});
  reply.action = Reply::Action::kHangAfterHeaders;
  always(reply);
  const auto [outcome, elapsed] = lookup({"--timeout", "2s", "--attempt-timeout", "1s"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("--timeout 2s"));
  EXPECT_LT(elapsed, 2600ms);
  EXPECT_GE(quay_.request_count(), 2U);  // the first attempt timed out and was retried
}

TEST_F(Network, StalledHandshakeIsAbandonedAtTheDeadline) {
  quay_.set_stall_handshakes(true);
  const auto [outcome, elapsed] = lookup({"--timeout", "2s"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("--timeout 2s"));
  EXPECT_LT(elapsed, 2600ms);
  EXPECT_EQ(quay_.request_count(), 0U);
}

TEST_F(Network, NonJsonSuccessBody) {
  quay_.push_reply(Reply::text(200, "token=abc"));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("answered HTTP 200 with a body without Quay's message"));
  EXPECT_EQ(quay_.request_count(), 1U);
}

TEST_F(Network, SuccessBodyWithoutToken) {
  quay_.push_reply(Reply::json(200, {{"expires_in", 3600}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("without a \"token\""));
}

TEST_F(Network, HugeBodyFailsFastWithContentLength) {
  quay_.push_reply(Reply::huge(k64MiB, /*with_content_length=*/true));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("oversized answer"));
  EXPECT_EQ(quay_.request_count(), 1U);  // not retried
  EXPECT_LT(elapsed, 3000ms);
}

TEST_F(Network, HugeBodyFailsFastWithoutContentLength) {
  quay_.push_reply(Reply::huge(k64MiB, /*with_content_length=*/false));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("larger than 1048576 bytes"));
  EXPECT_LT(elapsed, 3000ms);
}

TEST_F(Network, RedirectToAnotherHostIsNotFollowed) {
  TestPki other_pki;
  FakeQuay other(other_pki);
  quay_.push_reply(
      Reply::text(302, "", {{"Location", other.base_url() + "/oauth2/federation/robot/token"}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("(HTTP 302)"));
  EXPECT_THAT(outcome.err, HasSubstr("redirects are not followed"));
  EXPECT_EQ(other.connections_accepted(), 0U);
  EXPECT_EQ(other.request_count(), 0U);
}

TEST_F(Network, DowngradeRedirectIsNotFollowed) {
  quay_.push_reply(
      Reply::text(301, "", {{"Location", "http://127.0.0.1:1/oauth2/federation/robot/token"}}));
  const auto [outcome, elapsed] = lookup();
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("(HTTP 301)"));
  EXPECT_EQ(quay_.request_count(), 1U);
}

TEST_F(Network, ConnectionRefusedIsRetriedThenReported) {
  // A port nobody listens on: bind one, learn its number, close it.
  std::uint16_t closed_port = 0;
  {
    TestPki pki;
    FakeQuay gone(pki);
    closed_port = gone.port();
  }
  const auto image = "127.0.0.1:" + std::to_string(closed_port) + "/team/app";
  const auto started = Steady::now();
  const auto outcome =
      run_plugin(make_request(image, token_, {{"quay.io/federated-robot-account", kRobot}}),
                 {"--ca-file", ca_file_, "--retries", "2"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err,
              HasSubstr("cannot connect to Quay at 127.0.0.1:" + std::to_string(closed_port)));
  EXPECT_THAT(outcome.err, HasSubstr("(after 3 attempts)"));
  EXPECT_LT(Steady::now() - started, 5s);
}

}  // namespace
}  // namespace qcp::test

namespace qcp::test {
namespace {

class Proxy : public ::testing::Test {
 protected:
  Proxy() : ca_file_(pki_.write_ca(dir_.path()).string()) {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:app:puller", {}}});
  }
  Outcome lookup(std::map<std::string, std::string, std::less<>> variables) {
    auto env = clean_environment();
    env.variables = std::move(variables);
    return run_plugin(
        make_request(quay_.host() + "/team/app", quay_.mint_service_account_token("app", "puller"),
                     {{"quay.io/federated-robot-account", kRobot}}),
        {"--ca-file", ca_file_}, env);
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
  ConnectProxy proxy_;
};

TEST_F(Proxy, HttpsProxyTunnelsTheExchange) {
  for (const char* name : {"HTTPS_PROXY", "https_proxy"}) {
    const auto outcome = lookup({{name, proxy_.url()}});
    ASSERT_EQ(outcome.exit_code, 0) << name << ": " << outcome.err;
  }
  EXPECT_EQ(proxy_.targets(), (std::vector<std::string>{quay_.host(), quay_.host()}));
}

TEST_F(Proxy, NoProxyBypassesIt) {
  const auto outcome = lookup({{"HTTPS_PROXY", proxy_.url()}, {"NO_PROXY", "127.0.0.1"}});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(proxy_.targets().empty());
  EXPECT_EQ(quay_.request_count(), 1U);
}

TEST_F(Proxy, WithoutProxyVariablesNoProxyIsUsed) {
  const auto outcome = lookup({});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(proxy_.targets().empty());
}

}  // namespace
}  // namespace qcp::test

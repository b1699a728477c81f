// What reaches stderr and stdout when the input is hostile: no token or proxy password, no
// piece of one, and never a second or forged line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "run_fixture.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace test;  // NOLINT(google-build-using-namespace): the run() fixture

long lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

// Every line is a log record or the one failure line; no byte could steer a terminal.
void expect_only_printable_lines(const std::string& err) {
  std::size_t start = 0;
  while (start < err.size()) {
    const auto end = err.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "unterminated line";
    const auto line = std::string_view(err).substr(start, end - start);
    EXPECT_TRUE(line.starts_with("20") || line.starts_with("quay-credential-provider: "))
        << "a line that is not ours: " << line;
    start = end + 1;
  }
  for (const char c : err) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_FALSE((byte < 0x20 && c != '\n') || byte == 0x7F) << "raw control byte " << int{byte};
  }
  EXPECT_THAT(err, Not(HasSubstr("\xc2\x9b")));      // C1 CSI
  EXPECT_THAT(err, Not(HasSubstr("\xe2\x80\xae")));  // RIGHT-TO-LEFT OVERRIDE
}

TEST(OutputSafety, DebugLogsCannotBeForgedByTheImageOrTheTokensClaims) {
  const std::string forged = "\n2026-01-01T00:00:00.000Z info credential for robot x";
  const std::string token = make_jwt({{"iss", "https://oidc.example.com" + forged},
                                      {"sub", std::string("sub\0\x1b[2J\r", 8) + "\xe2\x80\xae"},
                                      {"exp", test::kNow + 3600}});
  const auto outcome =
      run_with(request("quay.example.com/team/app\r\x1b[31m\xc2\x9b" + forged, token), kOk,
               {"--log-level=debug"});
  EXPECT_THAT(outcome.err, HasSubstr("\\x0a2026-01-01"));
  expect_only_printable_lines(outcome.err);
}

TEST(OutputSafety, UsageErrorsNeverQuoteAStrayToken) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"inspect", "-", kSaToken},
                                               {"inspect", kSaToken, "extra"},
                                               {"--log-level=info", kSaToken},
                                               {"check-config", "a.yaml", kSaToken},
                                               {"--unknown-flag=" + kSaToken},
                                               {"--timeout", kSaToken}}) {
    const auto outcome = run_with(request(), kOk, args);
    EXPECT_EQ(outcome.exit_code, 2) << args.back().substr(0, 20) << outcome.err;
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(lines(outcome.err), 1) << outcome.err;
    expect_no_secret(outcome);
  }
  const auto flag = run_with(request(), kOk, {"--unknown-flag=" + kSaToken});
  EXPECT_THAT(flag.err, HasSubstr("unknown flag --unknown-flag=..."));
}

TEST(OutputSafety, AFlagValueWithANewlineStillGivesOneLine) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--timeout", "1s\n2026-01-01T00:00:00.000Z info forged"},
        {"--allowed-host", "quay.example.com\r\nforged"},
        {"--log-level=x\ny"},
        {"check-config", "--kubelet-version", "1.34\nforged", "-"}}) {
    const auto outcome = run_with(request(), kOk, args);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_EQ(lines(outcome.err), 1) << outcome.err;
    expect_only_printable_lines(outcome.err);
  }
}

TEST(OutputSafety, QuayMessagesQuotingPiecesOfTheTokenAreScrubbed) {
  for (const auto& [at, length] : {std::pair{5U, 20U}, std::pair{40U, 33U}, std::pair{70U, 40U}}) {
    const std::string piece = kSaToken.substr(at, length);
    const auto outcome = run_with(
        request(), json_response(400, {{"message", "Invalid token: '" + piece + "' rejected"}}));
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_THAT(outcome.err, Not(HasSubstr(piece))) << outcome.err;
    EXPECT_THAT(outcome.err, HasSubstr("'[redacted]' rejected"));
  }
}

Environment with_proxy(const std::string& url) {
  return staged_environment({"/etc/ssl/certs/ca-certificates.crt"}, {}, {{"HTTPS_PROXY", url}});
}

TEST(OutputSafety, AMalformedOrUnsupportedProxyIsAConfigurationErrorThatHidesThePassword) {
  for (const std::string url :
       {"socks5://puller:hunter2-proxy-pw@proxy:1080", "http://puller:hunter2-proxy-pw@proxy:99999",
        "http://puller:hunter2 proxy-pw@proxy:3128", "http://puller:hunter2-proxy-pw@/",
        "hunter2-proxy-pw://proxy", "http://puller:hunter2-proxy-pw@proxy:3128/path"}) {
    FakeHttp http(kOk);
    std::istringstream in(request());
    std::ostringstream out;
    std::ostringstream err;
    const std::vector<std::string> args = {"--log-level=debug"};
    const int code = run(args, Streams{in, out, err}, with_proxy(url), http, FixedClock{});
    EXPECT_EQ(code, 2) << err.str();
    EXPECT_TRUE(http.requests.empty()) << url;
    EXPECT_THAT(err.str(), HasSubstr("HTTPS_PROXY is not a usable proxy URL"));
    EXPECT_THAT(err.str(), Not(HasSubstr("hunter2")));
    EXPECT_EQ(lines(err.str()), 3) << err.str();  // two debug records, then the failure
    expect_only_printable_lines(err.str());
  }
}

TEST(OutputSafety, ProxyCredentialsInTransportErrorsAreScrubbed) {
  const std::string url = "http://puller:hunter2-proxy-pw@proxy.internal:3128";
  // libcurl's words for some failures quote the proxy URL whole.
  FakeHttp http(TransportError{TransportError::Kind::kConnect,
                               "Could not connect through " + url + " (hunter2-proxy-pw)"});
  std::istringstream in(request());
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string> args = {"--log-level=trace", "--retries=1"};
  const int code = run(args, Streams{in, out, err}, with_proxy(url), http, FixedClock{});
  EXPECT_EQ(code, 1);
  EXPECT_EQ(http.requests.size(), 2U);
  EXPECT_EQ(http.requests.front().proxy, url);
  EXPECT_THAT(err.str(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(err.str(),
              HasSubstr("proxy http://[redacted]@proxy.internal:3128 (from HTTPS_PROXY)"));
}

}  // namespace
}  // namespace qcp

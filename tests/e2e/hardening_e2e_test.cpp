// The built binary under hostile conditions: a writer that never closes stdin, a process paused
// past its deadline, a full or closed stdout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "plugin_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

long lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

TEST_F(PluginBinary, StdinThatIsNeverClosedEndsAtTheTimeout) {
  const std::string partial = request().substr(0, 40);
  const auto result =
      exec(partial, {"--timeout", "1s"}, ProcessOptions{.deadline = 15s, .keep_stdin_open = true});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_LT(result.elapsed, 5s);
  EXPECT_THAT(result.err, HasSubstr("stdin was not closed within --timeout 1s"));
  EXPECT_EQ(lines(result.err), 1) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(quay_.request_count(), 0U);
}

// Quay asks for a retry in 1 s; the process is stopped during that wait and continued after its
// deadline. It must end at once, not start an attempt with no time left (which libcurl would
// run with no timeout) against a server that now hangs.
TEST_F(PluginBinary, APausePastTheDeadlineEndsTheLookupAtOnce) {
  quay_.script(
      {Reply::json(429, {{"message", "slow down"}}, {{"Retry-After", "1"}}), Reply::hang(30s)});
  std::thread conductor;
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      exec(request(), {"--timeout", "3s"},
           ProcessOptions{.deadline = 20s, .on_spawn = [&](pid_t pid) {
                            conductor = std::thread([this, pid, started] {
                              if (quay_.wait_for_requests(1, 5s)) {
                                std::this_thread::sleep_for(300ms);  // inside the 1 s wait
                                ::kill(pid, SIGSTOP);
                                std::this_thread::sleep_until(started + 3500ms);
                              }
                              ::kill(pid, SIGCONT);
                            });
                          }});
  conductor.join();
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_LT(result.elapsed, 6s) << result.err;
  EXPECT_THAT(result.err, HasSubstr("did not answer within the deadline (--timeout 3s)"));
  EXPECT_THAT(result.err, HasSubstr("HTTP 429"));
  EXPECT_EQ(quay_.request_count(), 1U);
  EXPECT_EQ(lines(result.err), 1) << result.err;
}

TEST_F(PluginBinary, AFullStdoutIsOneLineAndNeverLoggedAsSuccess) {
  const auto result = exec(request(), {}, ProcessOptions{.stdout_path = "/dev/full"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("the response could not be written to stdout: No space left"));
  EXPECT_THAT(result.err, Not(HasSubstr("credential for robot")));
  EXPECT_EQ(lines(result.err), 1) << result.err;
}

TEST_F(PluginBinary, AReaderThatWentAwayIsEpipeInOneLineNotSigpipe) {
  const auto result = exec(request(), {}, ProcessOptions{.stdout_reader_gone = true});
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("could not be written to stdout: Broken pipe"));
  EXPECT_EQ(lines(result.err), 1) << result.err;
}

// libcurl writes the TLS traffic secrets to $SSLKEYLOGFILE; with a capture they reveal both
// tokens. Nothing the libraries could read from the environment may change what they do.
TEST_F(PluginBinary, TheLibrariesSeeNoEnvironmentThatChangesBehaviour) {
  const auto keylog = dir_ / "keys.log";
  const auto result = exec(request(), {}, {},
                           {"SSLKEYLOGFILE=" + keylog.string(), "CURL_CA_BUNDLE=/nonexistent",
                            "SSL_CERT_FILE=" + ca_file_, "HOSTALIASES=/nonexistent",
                            "OPENSSL_CONF=/nonexistent/openssl.cnf"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(std::filesystem::exists(keylog)) << "TLS secrets written to " << keylog;
}

// Whatever the server sends, memory stays bounded and an oversized answer is named as such.
TEST_F(PluginBinary, MemoryStaysBoundedAgainstAnyAnswer) {
  constexpr std::size_t k512MiB = std::size_t{512} << 20;
  Reply long_line = Reply::json(200, {{"token", "x"}});
  long_line.headers.emplace_back("X-Long", std::string(std::size_t{200} << 10, 'a'));
  Reply many_headers = Reply::json(200, {{"token", "x"}});
  for (int i = 0; i < 5000; ++i) {
    many_headers.headers.emplace_back("X-Many-" + std::to_string(i), std::string(100, 'b'));
  }
  const std::vector<std::pair<std::string, Reply>> answers = {
      {"endless trailers", Reply::endless_trailers(k512MiB)},
      {"a 200 KiB header line", long_line},
      {"500 KiB of headers", many_headers},
      {"a 512 MiB body", Reply::huge(k512MiB)},
      {"a 512 MiB body without length", Reply::huge(k512MiB, false)},
  };
  for (const auto& [name, reply] : answers) {
    quay_.set_handler([reply = reply](const RecordedRequest&) { return std::optional(reply); });
    const auto result = exec(request(), {"--timeout", "20s"}, ProcessOptions{.deadline = 40s});
    EXPECT_EQ(result.exit_code, 1) << name << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("sent an oversized answer")) << name;
    EXPECT_THAT(result.err, Not(HasSubstr("out of memory"))) << name;
    EXPECT_THAT(result.err, Not(HasSubstr("Out of memory"))) << name;
    EXPECT_LT(result.max_rss_kib, rss_bound_kib()) << name;
    EXPECT_EQ(lines(result.err), 1) << name << ": " << result.err;
  }
}

TEST_F(PluginBinary, AnOversizedTokenIsABadRequestNotOutOfMemory) {
  const std::string huge_token = token_ + std::string(std::size_t{900} << 10, 'A');
  const auto result = exec(kubelet_request(quay_.host() + "/team/app", huge_token, kRobot));
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_THAT(result.err, HasSubstr("serviceAccountToken is"));
  EXPECT_EQ(quay_.request_count(), 0U);
  EXPECT_EQ(lines(result.err), 1) << result.err;
}

// With the open-file limit nearly used up, libcurl would report a connect or CA-file failure.
TEST_F(PluginBinary, RunningOutOfFileDescriptorsIsNamed) {
  std::vector<std::string> args = {"--nofile=8:8"};
  for (const auto& word : command_line(kBinary)) {
    args.push_back(word);
  }
  args.insert(args.end(), {"--ca-file", ca_file_});
  const auto result = run_process("/usr/bin/prlimit", args, {"PATH=/usr/bin:/bin"}, request());
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("out of file descriptors"));
  EXPECT_THAT(result.err, Not(HasSubstr("certificate")));
  EXPECT_EQ(lines(result.err), 1) << result.err;
  EXPECT_EQ(quay_.request_count(), 0U);
}

}  // namespace
}  // namespace qcp::test

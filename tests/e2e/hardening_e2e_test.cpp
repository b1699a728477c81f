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
  quay_.script({Reply::json(429, {{"message", "slow down"}}, {{"Retry-After", "1"}}),
                Reply::hang(30s)});
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

}  // namespace
}  // namespace qcp::test

// run_process: real programs, run without a shell, with only the environment given, bounded
// output, and nothing left running after the deadline.
#include "qcp/core/process.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

using std::chrono::steady_clock;
using ::testing::HasSubstr;

ProcessSpec spec(std::vector<std::string> argv,
                 std::chrono::milliseconds budget = std::chrono::seconds{10}) {
  ProcessSpec result;
  result.argv = std::move(argv);
  result.environment = {"PATH=/usr/bin:/bin", "ONLY=this"};
  result.deadline = steady_clock::now() + budget;
  return result;
}

std::string failure_of(const ProcessSpec& process) {
  try {
    run_process(process);
  } catch (const Failure& failure) {
    return failure.what();
  }
  return "no failure";
}

TEST(RunProcess, FindsTheProgramOnTheSearchPathAndPassesArgumentsAsTheyAre) {
  const auto result = run_process(spec({"printf", "%s|", "a b", "$HOME", "*"}));
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.out, "a b|$HOME|*|");
}

TEST(RunProcess, TheChildSeesOnlyTheEnvironmentItIsGiven) {
  EXPECT_EQ(run_process(spec({"env"})).out, "PATH=/usr/bin:/bin\nONLY=this\n");
}

// A descriptor this process opened without O_CLOEXEC (libcurl's kept-alive connections to the
// API server and Quay are such) never reaches the program.
TEST(RunProcess, TheChildGetsNoDescriptorButItsThreeStreams) {
  const int kept = ::open("/dev/null", O_RDONLY);  // NOLINT: without O_CLOEXEC on purpose
  ASSERT_GE(kept, 3);
  const auto fd = std::to_string(kept);
  const auto result = run_process(
      spec({"sh", "-c", "[ -e /proc/self/fd/" + fd + " ] && echo open || echo closed"}));
  ::close(kept);
  EXPECT_EQ(result.out, "closed\n");
}

TEST(RunProcess, ReportsExitStatusSignalAndStderr) {
  auto result = run_process(spec({"sh", "-c", "echo why >&2; exit 3"}));
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.describe(), "exit status 3");
  EXPECT_EQ(result.err, "why\n");
  result = run_process(spec({"sh", "-c", "kill -TERM $$"}));
  EXPECT_EQ(result.describe(), "killed by signal " + std::to_string(SIGTERM));
}

TEST(RunProcess, AProgramThatIsMissingOrNotExecutableFailsToStart) {
  EXPECT_THAT(failure_of(spec({"no-such-program-qcp"})),
              HasSubstr("no-such-program-qcp: cannot be run: No such file or directory"));
  const auto script = std::filesystem::temp_directory_path() / "qcp-not-executable";
  std::ofstream(script) << "#!/bin/sh\n";
  std::filesystem::permissions(script, std::filesystem::perms(0644));
  EXPECT_THAT(failure_of(spec({script.string()})), HasSubstr("Permission denied"));
  std::filesystem::remove(script);
}

TEST(RunProcess, TooMuchOutputFailsAndStderrIsCapped) {
  auto big = spec({"head", "-c", "100000", "/dev/zero"});
  EXPECT_THAT(failure_of(big), HasSubstr("wrote more than 65536 bytes to stdout"));
  const auto result = run_process(spec({"sh", "-c", "head -c 100000 /dev/zero >&2"}));
  EXPECT_EQ(result.err.size(), std::size_t{4096});
}

TEST(RunProcess, TheDeadlineKillsTheProgramAndWhatItStartedInTheBackground) {
  const auto marker = std::filesystem::temp_directory_path() / "qcp-process-survivor";
  std::filesystem::remove(marker);
  const auto started = steady_clock::now();
  EXPECT_THAT(failure_of(spec({"sh", "-c", "(sleep 1; touch " + marker.string() + ") & sleep 30"},
                              std::chrono::milliseconds{300})),
              HasSubstr("sh: did not finish in time; it was killed"));
  EXPECT_LT(steady_clock::now() - started, std::chrono::seconds{3});
  // A program that exits at once still has its group killed: a stdout-holding child too.
  EXPECT_TRUE(
      run_process(
          spec({"sh", "-c", "(sleep 1; touch " + marker.string() + ") >/dev/null 2>&1 & exit 0"}))
          .succeeded());
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(RunProcess, JoinsTheMountNamespaceItIsGiven) {
  auto own = spec({"true"});
  own.mount_namespace = "/proc/self/ns/mnt";  // the parent's own: joining it changes nothing
#ifdef QCP_TESTS_UNDER_QEMU_USER
  // qemu-user's own threads share the child's fs_struct, and the kernel then refuses setns
  // (EINVAL): a limit of the emulator, not of the program, which is asked to say so.
  EXPECT_THAT(failure_of(own), HasSubstr("cannot join the mount namespace /proc/self/ns/mnt"));
#else
  if (::geteuid() == 0) {
    EXPECT_TRUE(run_process(own).succeeded());
  }
#endif
  own.mount_namespace = "/nonexistent/ns/mnt";
  EXPECT_THAT(failure_of(own), HasSubstr("cannot open /nonexistent/ns/mnt"));
}

}  // namespace
}  // namespace qcp

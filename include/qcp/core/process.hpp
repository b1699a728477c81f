#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace qcp::core {

// One program to run, without a shell, under an absolute deadline.
struct ProcessSpec {
  // argv[0] is the program: a path, or a name looked up in `search_path` (PATH's syntax).
  std::vector<std::string> argv;
  // The child's whole environment ("NAME=value"): nothing of ours leaks into it.
  std::vector<std::string> environment;
  std::string search_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::chrono::steady_clock::time_point deadline;
  // Bounds on what is kept of each stream; a child writing more than max_stdout fails.
  std::size_t max_stdout = std::size_t{64} << 10;
  std::size_t max_stderr = std::size_t{4} << 10;  // the rest is read and dropped
  // When set (e.g. "/proc/1/ns/mnt"), the child joins that mount namespace before it looks up
  // and executes the program: how a privileged pod runs the node's own systemctl.
  std::string mount_namespace;
};

struct ProcessResult {
  int exit_code = 0;    // when the child exited
  int term_signal = 0;  // > 0: the signal that ended it
  std::string out;
  std::string err;  // at most max_stderr bytes

  [[nodiscard]] bool succeeded() const { return term_signal == 0 && exit_code == 0; }
  // "exit status 3" or "killed by signal 9", for messages.
  [[nodiscard]] std::string describe() const;
};

// Runs the program and waits for it. Throws Failure (kLookupFailed) naming argv[0] when it
// cannot start (not found, not executable, the namespace refused), writes more than max_stdout,
// or has not ended by the deadline; then it and every process of its group are killed and
// reaped first, so nothing it started outlives the call.
ProcessResult run_process(const ProcessSpec& spec);

}  // namespace qcp::core

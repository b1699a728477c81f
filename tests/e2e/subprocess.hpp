#pragma once
// Runs the built binary as the kubelet does: argv, a chosen environment, the request on stdin,
// stdout and stderr captured through pipes, a deadline.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tested_binary.hpp"

namespace qcp::test {

struct ProcessResult {
  int exit_code = -1;    // -1: killed at the deadline or by a signal
  int signal = 0;        // the signal that ended the process, if one did
  long max_rss_kib = 0;  // peak resident set size
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{};
};

struct ProcessOptions {
  std::chrono::milliseconds deadline{30'000};  // then SIGKILL
  bool keep_stdin_open = false;         // write the input, then never close stdin (a stuck writer)
  std::string stdout_path;              // stdout to this file (e.g. /dev/full) instead of a pipe
  bool stdout_reader_gone = false;      // stdout is a pipe whose read end is already closed
  std::function<void(pid_t)> on_spawn;  // e.g. to stop and continue the child
};

inline ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                                 const std::vector<std::string>& environment,
                                 const std::string& input, const ProcessOptions& options);

inline ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                                 const std::vector<std::string>& environment,
                                 const std::string& input,
                                 std::chrono::milliseconds deadline = std::chrono::milliseconds{
                                     30'000}) {
  return run_process(binary, args, environment, input, ProcessOptions{.deadline = deadline});
}

inline ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                                 const std::vector<std::string>& environment,
                                 const std::string& input, const ProcessOptions& options) {
  const auto deadline = options.deadline;
  std::array<int, 2> in_pipe{};
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (::pipe2(in_pipe.data(), O_CLOEXEC) != 0 || ::pipe2(out_pipe.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  if (options.stdout_reader_gone) {
    ::close(out_pipe[0]);
    out_pipe[0] = -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  if (options.stdout_path.empty()) {
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(), O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<std::string> argv_strings = command_line(binary);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = environment;
  std::vector<char*> envp;
  for (auto& entry : env_strings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  const auto started = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawned =
      ::posix_spawn(&pid, argv.front(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(in_pipe[1]);
    if (out_pipe[0] >= 0) {
      ::close(out_pipe[0]);
    }
    ::close(err_pipe[0]);
    throw std::runtime_error("posix_spawn failed for " + binary);
  }
  if (options.on_spawn) {
    options.on_spawn(pid);
  }

  // Feed stdin and drain both outputs together, so no pipe buffer can deadlock the child.
  ProcessResult result;
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  int held_stdin = -1;  // keep_stdin_open: the write end, closed only after the child ended
  if (input.empty() && !options.keep_stdin_open) {
    ::close(in_fd);
    in_fd = -1;
  } else if (input.empty()) {
    held_stdin = in_fd;
    in_fd = -1;
  }
  if (!options.stdout_path.empty()) {
    ::close(out_pipe[0]);
    out_pipe[0] = -1;
  }
  int out_fd = out_pipe[0];
  int err_fd = err_pipe[0];
  bool killed = false;
  ::signal(SIGPIPE, SIG_IGN);
  while (out_fd >= 0 || err_fd >= 0) {
    const auto left = deadline - std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started);
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    std::array<pollfd, 3> fds{{{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}}};
    const int ready = ::poll(fds.data(), fds.size(),
                             killed ? 1000 : static_cast<int>(std::max<long>(1, left.count())));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (in_fd >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const auto n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      }
      if (n < 0 || written == input.size()) {
        if (options.keep_stdin_open && n >= 0) {
          held_stdin = in_fd;
        } else {
          ::close(in_fd);
        }
        in_fd = -1;
      }
    }
    for (auto [index, fd, sink] :
         {std::tuple{1, &out_fd, &result.out}, std::tuple{2, &err_fd, &result.err}}) {
      if (*fd >= 0 &&
          (fds[static_cast<std::size_t>(index)].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        std::array<char, 65536> buffer{};
        const auto n = ::read(*fd, buffer.data(), buffer.size());
        if (n > 0) {
          sink->append(buffer.data(), static_cast<std::size_t>(n));
        } else {
          ::close(*fd);
          *fd = -1;
        }
      }
    }
    if (killed && ready == 0) {
      break;
    }
  }
  if (in_fd >= 0) {
    ::close(in_fd);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  result.max_rss_kib = usage.ru_maxrss;
  if (held_stdin >= 0) {
    ::close(held_stdin);
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  result.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

// Peak RSS a bounded run may reach. The static binary stays near 4 MiB against hostile answers:
// 32 MiB. qemu-user's translator and its code cache take about 100 MiB more: 160 MiB. The ASan
// build (dynamic, debug, every mode linked in) is ~190 MiB before it reads a byte, and grows
// with every feature linked in (170 MiB when the controller joined, 195 MiB with the static
// provider): its bound is its own footprint printing --version plus 64 MiB. Each still catches
// an answer read whole (512 MiB).
inline long rss_bound_kib() {
#ifdef QCP_SANITIZED_BINARY
  static const long footprint = run_process(kBinary, {"--version"}, {}, "").max_rss_kib;
  return footprint + 64L * 1024;
#else
  return kEmulator.empty() ? 32L * 1024 : 160L * 1024;
#endif
}

}  // namespace qcp::test

#include "qcp/core/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

#include "qcp/core/failure.hpp"
#include "qcp/core/unique_fd.hpp"

namespace qcp::core {
namespace {

using Fd = UniqueFd;

struct Pipe {
  Fd read;
  Fd write;
};

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

Failure failure(const ProcessSpec& spec, const std::string& why) {
  return Failure(ExitCode::kLookupFailed, spec.argv.front() + ": " + why);
}

Pipe make_pipe(const ProcessSpec& spec) {
  std::array<int, 2> ends{};
  if (::pipe2(ends.data(), O_CLOEXEC) != 0) {
    throw failure(spec, "cannot make a pipe: " + errno_text(errno));
  }
  return {Fd(ends[0]), Fd(ends[1])};
}

// Where the child may find the program, worked out before fork (the child may only make
// async-signal-safe calls, so it gets ready-made strings).
std::vector<std::string> candidates(const ProcessSpec& spec) {
  const std::string& name = spec.argv.front();
  if (name.find('/') != std::string::npos) {
    return {name};
  }
  std::vector<std::string> paths;
  std::size_t start = 0;
  while (start <= spec.search_path.size()) {
    const auto end = std::min(spec.search_path.find(':', start), spec.search_path.size());
    if (end > start) {
      paths.push_back(spec.search_path.substr(start, end - start) + "/" + name);
    }
    start = end + 1;
  }
  return paths;
}

std::vector<char*> pointers(const std::vector<std::string>& words) {
  std::vector<char*> result;
  result.reserve(words.size() + 1);
  for (const auto& word : words) {
    result.push_back(const_cast<char*>(word.c_str()));
  }
  result.push_back(nullptr);
  return result;
}

// Why the child could not start, sent to the parent over a close-on-exec pipe.
struct StartError {
  int stage = 0;  // 1: joining the namespace, 2: executing
  int error = 0;
};

// The program gets its three streams and nothing else of ours: libraries open descriptors
// without O_CLOEXEC (libcurl's kept-alive connections to the API server and Quay). Marked, not
// closed: the status pipe must outlive a failed execve. Only async-signal-safe calls (a forked
// child of a threaded process); kernels before 5.11 refuse the flag, so one by one there.
void mark_inherited_close_on_exec() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
    return;
  }
  rlimit limit{};
  const rlim_t last = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t{1} << 20)
                          ? limit.rlim_cur
                          : rlim_t{1} << 20;
  for (rlim_t fd = 3; fd < last; ++fd) {
    const int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0) {
      ::fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

[[noreturn]] void start_child(const ProcessSpec& spec, const std::vector<std::string>& paths,
                              int ns, int stdin_fd, const Pipe& out, const Pipe& err,
                              const Pipe& status) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // install --watch blocks SIGTERM for itself
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &default_action, nullptr);
  ::dup2(stdin_fd, STDIN_FILENO);
  ::dup2(out.write.get(), STDOUT_FILENO);
  ::dup2(err.write.get(), STDERR_FILENO);
  mark_inherited_close_on_exec();
  StartError why{};
  if (ns >= 0 && ::setns(ns, CLONE_NEWNS) != 0) {
    why = {1, errno};
  } else {
    auto argv = pointers(spec.argv);
    auto envp = pointers(spec.environment);
    why = {2, ENOENT};
    for (const auto& path : paths) {
      ::execve(path.c_str(), argv.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) {
        why.error = errno;  // e.g. EACCES: remembered, as execvp does, while looking further
      }
    }
  }
  [[maybe_unused]] const auto written = ::write(status.write.get(), &why, sizeof why);
  ::_exit(127);
}

class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&&) = delete;
  Child& operator=(Child&&) = delete;
  // Whatever happened, the child and its group end here.
  ~Child() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      static_cast<void>(reap());
    }
  }

  // Its exit, once it has ended; the rest of its group is killed first so that nothing it
  // left in the background lives on.
  bool ended(ProcessResult& result) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == 0) {
      return false;
    }
    ::kill(-pid_, SIGKILL);
    const int status = reap();
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return true;
  }

 private:
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  pid_t pid_;
};

int millis_until(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1000));
}

[[noreturn]] void throw_deadline(const ProcessSpec& spec) {
  throw failure(spec, "did not finish in time; it was killed");
}

// Reads stdout and stderr until both close, then waits for the exit, all by the deadline.
ProcessResult collect(const ProcessSpec& spec, Child& child, Pipe& out, Pipe& err) {
  ProcessResult result;
  std::array<char, 4096> chunk{};
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    if (std::chrono::steady_clock::now() >= spec.deadline) {
      throw_deadline(spec);
    }
    std::array<pollfd, 2> fds{pollfd{out.read.get(), POLLIN, 0}, pollfd{err.read.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), millis_until(spec.deadline)) < 0 && errno != EINTR) {
      throw failure(spec, "cannot wait for its output: " + errno_text(errno));
    }
    for (auto [pipe, kept, limit] : {std::tuple{&out, &result.out, spec.max_stdout},
                                     std::tuple{&err, &result.err, spec.max_stderr}}) {
      const auto& fd = fds[pipe == &out ? 0 : 1];
      if (fd.fd < 0 || fd.revents == 0) {
        continue;
      }
      const ssize_t got = ::read(fd.fd, chunk.data(), chunk.size());
      if (got <= 0) {
        if (got < 0 && errno == EINTR) {
          continue;
        }
        pipe->read.reset();
        continue;
      }
      const auto size = static_cast<std::size_t>(got);
      if (pipe == &out && kept->size() + size > limit) {
        throw failure(spec, "wrote more than " + std::to_string(limit) + " bytes to stdout");
      }
      kept->append(chunk.data(), std::min(size, limit - std::min(limit, kept->size())));
    }
  }
  while (!child.ended(result)) {
    if (std::chrono::steady_clock::now() >= spec.deadline) {
      throw_deadline(spec);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return result;
}

// Waits for the exec to happen (the status pipe closes) or the child's report of why not.
void await_start(const ProcessSpec& spec, const Pipe& status) {
  pollfd fd{status.read.get(), POLLIN, 0};
  while (::poll(&fd, 1, millis_until(spec.deadline)) <= 0) {
    if (std::chrono::steady_clock::now() >= spec.deadline) {
      throw_deadline(spec);
    }
  }
  StartError why{};
  ssize_t got = 0;
  do {
    got = ::read(status.read.get(), &why, sizeof why);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof why)) {
    throw failure(spec, why.stage == 1 ? "cannot join the mount namespace " + spec.mount_namespace +
                                             ": " + errno_text(why.error)
                                       : "cannot be run: " + errno_text(why.error));
  }
}

}  // namespace

std::string ProcessResult::describe() const {
  return term_signal > 0 ? "killed by signal " + std::to_string(term_signal)
                         : "exit status " + std::to_string(exit_code);
}

ProcessResult run_process(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    throw Failure(ExitCode::kUsage, "no program to run");
  }
  const auto paths = candidates(spec);
  Fd ns;
  if (!spec.mount_namespace.empty()) {
    ns = Fd(::open(spec.mount_namespace.c_str(), O_RDONLY | O_CLOEXEC));
    if (ns.get() < 0) {
      throw failure(spec, "cannot open " + spec.mount_namespace + ": " + errno_text(errno));
    }
  }
  Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null.get() < 0) {
    throw failure(spec, "cannot open /dev/null: " + errno_text(errno));
  }
  Pipe out = make_pipe(spec);
  Pipe err = make_pipe(spec);
  Pipe status = make_pipe(spec);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw failure(spec, "cannot fork: " + errno_text(errno));
  }
  if (pid == 0) {
    start_child(spec, paths, ns.get(), null.get(), out, err, status);
  }
  ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists to kill
  Child child(pid);
  out.write.reset();
  err.write.reset();
  status.write.reset();
  await_start(spec, status);
  return collect(spec, child, out, err);
}

}  // namespace qcp::core

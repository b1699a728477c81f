#include "qcp/kube/kubelet_process.hpp"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "qcp/core/text.hpp"

namespace qcp::kube {
namespace {

constexpr std::size_t kMaxCommandLineBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxStatusBytes = std::size_t{64} << 10;

bool is_pid(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view program_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

// Who may have made a program a privileged caller trusts (install runs it as root to ask its
// version): root, or this process's own user.
bool trusted_owner(uid_t owner) {
  return owner == 0 || owner == ::geteuid();
}

// "" when the process's real, effective, saved and file-system uids are all trusted; else why
// not. A process picks its own argv[0], so a name says nothing; who runs it does.
std::string uid_problem(const HostFiles& files, const std::string& pid) {
  const auto status = files.read("/proc/" + pid + "/status", kMaxStatusBytes);
  const auto at = status ? status->bytes.find("\nUid:") : std::string::npos;
  if (at == std::string::npos) {
    return "has no Uid line in /proc/" + pid + "/status";
  }
  std::istringstream line(status->bytes.substr(at + 5, status->bytes.find('\n', at + 1) - at - 5));
  int fields = 0;
  for (unsigned long uid = 0; line >> uid; ++fields) {
    if (!trusted_owner(static_cast<uid_t>(uid))) {
      return "runs as uid " + std::to_string(uid);
    }
  }
  return fields == 4 ? "" : "has an unreadable Uid line";
}

// "" when its executable is one no other user could have placed or changed: a regular file of
// a trusted owner, not writable by group or others, in directories of trusted owners that
// only they may change, in the node's own mount namespace (a container's root could be
// anyone's).
std::string executable_problem(const HostFiles& files, const std::string& pid,
                               const std::string& executable) {
  const auto node = files.link_target("/proc/1/ns/mnt");
  if (!node || files.link_target("/proc/" + pid + "/ns/mnt") != node) {
    return "is not in the node's mount namespace";
  }
  if (!executable.starts_with('/') || executable.ends_with(" (deleted)")) {
    return "runs a program that is no longer on the node";
  }
  for (std::string path = executable;; path = parent_path(path)) {
    const auto status = files.status(path);
    const bool is_file = path == executable;
    if (status.kind != (is_file ? FileKind::kRegular : FileKind::kDirectory) ||
        !trusted_owner(status.owner) || (status.mode & 022U) != 0) {
      return "runs " + executable + (is_file ? "" : " from " + path) +
             ", which another user could change";
    }
    if (path == "/") {
      return "";
    }
  }
}

}  // namespace

std::optional<RunningKubelet> find_kubelet(const HostFiles& files, std::string* skipped) {
  if (files.status("/proc").kind != FileKind::kDirectory) {
    return std::nullopt;
  }
  auto pids = files.list("/proc");
  std::erase_if(pids, [](const std::string& name) { return !is_pid(name); });
  std::sort(pids.begin(), pids.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // numeric order
  });
  for (const auto& pid : pids) {
    try {
      const auto cmdline = files.read("/proc/" + pid + "/cmdline", kMaxCommandLineBytes);
      auto argv = split(cmdline ? cmdline->bytes : "", '\0');
      if (argv.empty() || !(program_name(argv.front()) == "kubelet" ||
                            (program_name(argv.front()) == "k3s" && argv.size() > 1 &&
                             (argv[1] == "server" || argv[1] == "agent")))) {
        continue;
      }
      const std::string executable = files.link_target("/proc/" + pid + "/exe").value_or("");
      std::string problem = uid_problem(files, pid);
      if (problem.empty()) {
        problem = executable_problem(files, pid, executable);
      }
      if (problem.empty()) {
        return RunningKubelet{pid, std::move(argv), executable};
      }
      if (skipped != nullptr) {
        *skipped += "; pid " + pid + " is named " + std::string(program_name(argv.front())) +
                    " but " + problem + ": not trusted";
      }
    } catch (const std::exception&) {
      continue;  // a process that ended while being read
    }
  }
  return std::nullopt;
}

// The value of `--flag=value` or `--flag value` (Go's flag package takes both); the last wins.
std::optional<std::string> flag_value(const std::vector<std::string>& argv, std::string_view flag) {
  std::optional<std::string> value;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string_view word = argv[i];
    if (word.starts_with(flag) && word.size() > flag.size() && word[flag.size()] == '=') {
      value = std::string(word.substr(flag.size() + 1));
    } else if (word == flag && i + 1 < argv.size()) {
      value = argv[++i];
    }
  }
  return value;
}

std::optional<std::chrono::system_clock::time_point> process_start(const HostFiles& files,
                                                                   const std::string& pid) {
  const auto stat = files.read("/proc/" + pid + "/stat", kMaxStatusBytes);
  const auto boot = files.read("/proc/stat", kMaxCommandLineBytes);
  const auto comm_end = stat ? stat->bytes.rfind(')') : std::string::npos;
  const auto btime_at = boot ? boot->bytes.find("\nbtime ") : std::string::npos;
  if (comm_end == std::string::npos || btime_at == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(stat->bytes.substr(comm_end + 1));
  std::string field;
  int index = 2;  // what follows ")" starts with field 3, the state; 22 is starttime
  while (index < 22 && fields >> field) {
    ++index;
  }
  long long ticks = 0;
  long long booted = 0;
  std::istringstream(field) >> ticks;
  std::istringstream(boot->bytes.substr(btime_at + 7)) >> booted;
  const long per_second = ::sysconf(_SC_CLK_TCK);
  if (index != 22 || ticks <= 0 || booted <= 0 || per_second <= 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point{std::chrono::seconds{booted}} +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::milliseconds{ticks * 1000 / per_second});
}

}  // namespace qcp::kube

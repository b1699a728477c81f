#include "install/kubelet_process.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>
#include <string_view>

#include "qcp/core/text.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

constexpr std::size_t kMaxCommandLineBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxStatusBytes = std::size_t{64} << 10;
constexpr std::string_view kConfigFlag = "--image-credential-provider-config";
constexpr std::string_view kBinDirFlag = "--image-credential-provider-bin-dir";

struct Kubelet {
  std::string pid;
  std::vector<std::string> argv;
  std::string executable;  // node path, checked (executable_problem)
};

bool is_pid(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view program_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

// Who may have made a program the installer runs as root: root, or the installer's own user.
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

std::optional<Kubelet> find_kubelet(const HostFiles& files, std::string* skipped = nullptr) {
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
        return Kubelet{pid, std::move(argv), executable};
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

std::string without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.ends_with('/')) {
    path.pop_back();
  }
  return path;
}

// When the process started, from /proc/PID/stat's starttime (clock ticks after boot) and
// /proc/stat's btime; nullopt when either cannot be read.
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

// Whether the kubelet started (a second of btime's rounding later) after the config, and every
// file of a config directory, was last written: then it has read them as they are.
bool started_after_config(const HostFiles& files, const std::string& pid,
                          const std::string& config) {
  const auto started = process_start(files, pid);
  const auto status = files.status(config);
  if (!started || status.kind == FileKind::kAbsent) {
    return false;
  }
  auto newest = status.modified;
  if (status.kind == FileKind::kDirectory) {
    for (const auto& name : files.list(config)) {
      newest = std::max(newest, files.status(join_path(config, name)).modified);
    }
  }
  return *started > newest + std::chrono::seconds{1};
}

}  // namespace

TrustedKubelet trusted_kubelet(const HostFiles& files) {
  std::string skipped;
  if (auto kubelet = find_kubelet(files, &skipped)) {
    return {kubelet->pid, kubelet->executable, ""};
  }
  return {"", "", skipped.empty() ? "" : skipped.substr(2)};
}

std::string kubelet_flag_report(const HostFiles& files, const std::string& bin_dir,
                                const std::string& config, const std::string& flags_file,
                                bool restarted) {
  const std::string wanted =
      std::string(kConfigFlag) + "=" + config + " " + std::string(kBinDirFlag) + "=" + bin_dir;
  const std::string next_start = flags_file.empty()
                                     ? "give it " + wanted
                                     : flags_file + " gives it " + wanted + " from its next start";
  const auto kubelet = find_kubelet(files);
  if (!kubelet) {
    return "no kubelet process found in the node's /proc: " + next_start;
  }
  if (program_name(kubelet->argv.front()) == "k3s") {
    return "k3s (pid " + kubelet->pid + ") runs the kubelet: " +
           (restarted ? "restarted with " + flags_file
                      : next_start + "; restart k3s (or install with --restart-kubelet)");
  }
  std::vector<std::string> missing;
  for (const auto& [flag, path] :
       {std::pair{kConfigFlag, &config}, std::pair{kBinDirFlag, &bin_dir}}) {
    const auto value = flag_value(kubelet->argv, flag);
    if (!value) {
      missing.push_back("has no " + std::string(flag));
    } else if (without_trailing_slash(*value) != without_trailing_slash(*path)) {
      missing.push_back("runs with " + std::string(flag) + "=" + *value + ", not " + *path);
    }
  }
  const std::string who = "the kubelet (pid " + kubelet->pid + ")";
  if (missing.empty()) {
    if (restarted) {
      return who + " runs with " + wanted;
    }
    return who + " runs with " + wanted +
           (started_after_config(files, kubelet->pid, config)
                ? " and started after the config was last written: nothing to restart"
                : ": restart it to read the new config (or use --restart-kubelet)");
  }
  std::string line = who;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    line += (i == 0 ? " " : " and ") + missing[i];
  }
  return line + ": " + next_start + "; restart it";
}

}  // namespace qcp::install

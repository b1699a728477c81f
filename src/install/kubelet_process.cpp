#include "install/kubelet_process.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

namespace qcp::install {
namespace {

constexpr std::size_t kMaxCommandLineBytes = std::size_t{1} << 20;
constexpr std::string_view kConfigFlag = "--image-credential-provider-config";
constexpr std::string_view kBinDirFlag = "--image-credential-provider-bin-dir";

struct Kubelet {
  std::string pid;
  std::vector<std::string> argv;
};

bool is_pid(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view program_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

std::vector<std::string> split_nul(std::string_view bytes) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto end = std::min(bytes.find('\0', start), bytes.size());
    words.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::optional<Kubelet> find_kubelet(const HostFiles& files) {
  if (files.status("/proc").kind != FileKind::kDirectory) {
    return std::nullopt;
  }
  for (const auto& name : files.list("/proc")) {
    if (!is_pid(name)) {
      continue;
    }
    try {
      const auto cmdline = files.read("/proc/" + name + "/cmdline", kMaxCommandLineBytes);
      if (!cmdline) {
        continue;
      }
      auto argv = split_nul(cmdline->bytes);
      if (!argv.empty() && (program_name(argv.front()) == "kubelet" ||
                            (program_name(argv.front()) == "k3s" && argv.size() > 1 &&
                             (argv[1] == "server" || argv[1] == "agent")))) {
        return Kubelet{name, std::move(argv)};
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

}  // namespace

std::optional<std::string> kubelet_pid(const HostFiles& files) {
  if (auto kubelet = find_kubelet(files)) {
    return kubelet->pid;
  }
  return std::nullopt;
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
    return who + " runs with " + wanted +
           (restarted ? "" : ": restart it to read the new config (or use --restart-kubelet)");
  }
  std::string line = who;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    line += (i == 0 ? " " : " and ") + missing[i];
  }
  return line + ": " + next_start + "; restart it";
}

}  // namespace qcp::install

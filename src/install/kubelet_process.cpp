#include "install/kubelet_process.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>
#include <string_view>

#include "qcp/install/namespace.hpp"
#include "qcp/kube/kubelet_process.hpp"

namespace qcp::install {
namespace {

std::string_view program_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

std::string without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.ends_with('/')) {
    path.pop_back();
  }
  return path;
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

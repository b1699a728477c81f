#pragma once

// The node's running kubelet, read from the node's /proc through HostFiles: the process that is
// the kubelet (or k3s, which runs it inside), trusted only when no other user could have started
// or changed it, and what its command line says. Install asks it where the provider goes and
// which version it is; doctor, what the kubelet was started with.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/host_files.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

inline constexpr std::string_view kConfigFlag = "--image-credential-provider-config";
inline constexpr std::string_view kBinDirFlag = "--image-credential-provider-bin-dir";

struct RunningKubelet {
  std::string pid;
  std::vector<std::string> argv;  // argv[0] is "kubelet" or "k3s" (then "server" or "agent")
  std::string executable;         // its node path, checked
};

// The first process, in pid order, named kubelet (or k3s server/agent) and run by root in the
// node's mount namespace from an executable no other user could have placed or changed: a
// regular file of root's (or this process's user), not writable by group or others, in
// directories only they may change. Any process can call itself kubelet: each one skipped is
// appended to `skipped` ("; pid N is named kubelet but runs as uid 65534: not trusted").
std::optional<RunningKubelet> find_kubelet(const HostFiles& files, std::string* skipped = nullptr);

// The value of `--flag=value` or `--flag value` (Go's flag package takes both); the last wins.
std::optional<std::string> flag_value(const std::vector<std::string>& argv, std::string_view flag);

// When the process started, from /proc/PID/stat's starttime (clock ticks after boot) and
// /proc/stat's btime; nullopt when either cannot be read.
std::optional<std::chrono::system_clock::time_point> process_start(const HostFiles& files,
                                                                   const std::string& pid);

}  // namespace qcp::kube

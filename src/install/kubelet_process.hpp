#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qcp/core/host_files.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// The node's kubelet (or k3s, which runs it inside), from the node's /proc: a process named so,
// run by root in the node's mount namespace from an executable no other user could have placed
// or changed (the installer runs it as root to ask its version). Any process can call itself
// kubelet; those that are not trusted are skipped, and said why.
struct TrustedKubelet {
  std::string pid;         // "" when none was found
  std::string executable;  // its node path
  std::string skipped;     // "pid N is named kubelet but runs as uid 65534: not trusted; ..."
};
TrustedKubelet trusted_kubelet(const HostFiles& files);

// What the running kubelet still needs for an install at (bin_dir, config) to take effect, read
// from its command line in the node's /proc: one line for the install report. The kubelet reads
// both flags only at start, so the line says what to change and that a restart follows;
// `flags_file` (when not "") is where install wrote them, `restarted` whether it restarted it.
// k3s runs its kubelet inside the k3s process, whose command line does not show the flags.
std::string kubelet_flag_report(const HostFiles& files, const std::string& bin_dir,
                                const std::string& config, const std::string& flags_file,
                                bool restarted);

}  // namespace qcp::install

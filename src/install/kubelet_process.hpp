#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qcp/install/host_files.hpp"

namespace qcp::install {

// The pid of the node's kubelet (or of k3s, which runs it inside), from the node's /proc.
std::optional<std::string> kubelet_pid(const HostFiles& files);

// What the running kubelet still needs for an install at (bin_dir, config) to take effect, read
// from its command line in the node's /proc: one line for the install report. The kubelet reads
// both flags only at start, so the line says what to change and that a restart follows;
// `flags_file` (when not "") is where install wrote them, `restarted` whether it restarted it.
// k3s runs its kubelet inside the k3s process, whose command line does not show the flags.
std::string kubelet_flag_report(const HostFiles& files, const std::string& bin_dir,
                                const std::string& config, const std::string& flags_file,
                                bool restarted);

}  // namespace qcp::install

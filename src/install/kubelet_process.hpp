#pragma once

#include <string>
#include <vector>

#include "qcp/install/host_files.hpp"

namespace qcp::install {

// What the running kubelet still needs for an install at (bin_dir, config) to take effect, read
// from its command line in the node's /proc: one line for the install report. The kubelet reads
// both flags only at start, so the line says what to change and that a restart follows.
std::string kubelet_flag_report(const HostFiles& files, const std::string& bin_dir,
                                const std::string& config);

}  // namespace qcp::install

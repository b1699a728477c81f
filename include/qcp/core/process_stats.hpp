#pragma once

// This process's own figures, as every Prometheus client's process collector exports them (the
// process_* series dashboards and alerts already know), read from /proc (proc(5)).

#include <cstdint>
#include <optional>
#include <string_view>

namespace qcp::core {

struct ProcessStats {
  double cpu_seconds = 0;  // user and system
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;  // the soft RLIMIT_NOFILE
};

// From /proc/self/stat's text, given clock ticks per second, the page size and the boot time
// (Unix seconds, /proc/stat's btime); nullopt for text that is not that. The open-file figures
// are left 0.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_bytes, double boot_seconds);

// This process's figures now; nullopt where /proc is not there to read.
std::optional<ProcessStats> read_process_stats();

}  // namespace qcp::core

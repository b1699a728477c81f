#include "qcp/core/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::core {
namespace {

constexpr std::size_t kMaxProcText = std::size_t{64} << 10;

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stop != end) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(" \n");
    if (start == std::string_view::npos) {
      break;
    }
    text.remove_prefix(start);
    const auto end = std::min(text.find_first_of(" \n"), text.size());
    out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

// /proc/stat's "btime" line: when the machine booted, Unix seconds.
std::optional<double> boot_time() {
  const std::string stat = read_whole_file("/proc/stat", std::size_t{1} << 20);
  const auto at = stat.find("\nbtime ");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto line = std::string_view(stat).substr(at + 7);
  const auto value = number(line.substr(0, line.find('\n')));
  return value ? std::optional<double>(static_cast<double>(*value)) : std::nullopt;
}

std::uint64_t open_descriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    count += entry->d_name[0] != '.' ? 1 : 0;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // less the descriptor reading the directory
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_bytes, double boot_seconds) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
  // from the last ')'; the first word after it is field 3 (state).
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0 || page_bytes <= 0) {
    return std::nullopt;
  }
  const auto fields = words(stat.substr(close + 1));
  const auto field = [&fields](std::size_t n) -> std::optional<std::uint64_t> {
    return n - 3 < fields.size() ? number(fields[n - 3]) : std::nullopt;
  };
  const auto utime = field(14);
  const auto stime = field(15);
  const auto start = field(22);
  const auto vsize = field(23);
  const auto rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) {
    return std::nullopt;
  }
  const auto ticks = static_cast<double>(ticks_per_second);
  return ProcessStats{
      .cpu_seconds = static_cast<double>(*utime + *stime) / ticks,
      .resident_bytes = *rss * static_cast<std::uint64_t>(page_bytes),
      .virtual_bytes = *vsize,
      .start_time_seconds = boot_seconds + static_cast<double>(*start) / ticks,
      .open_fds = 0,
      .max_fds = 0,
  };
}

std::optional<ProcessStats> read_process_stats() {
  std::optional<ProcessStats> stats;
  try {
    const auto boot = boot_time();
    if (!boot) {
      return std::nullopt;
    }
    stats = parse_proc_stat(read_whole_file("/proc/self/stat", kMaxProcText),
                            ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), *boot);
  } catch (const Failure&) {  // no /proc here
    return std::nullopt;
  }
  if (!stats) {
    return std::nullopt;
  }
  stats->open_fds = open_descriptors();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats->max_fds = limit.rlim_cur;
  }
  return stats;
}

}  // namespace qcp::core

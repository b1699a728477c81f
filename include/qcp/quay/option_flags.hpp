#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "qcp/quay/namespace.hpp"
#include "qcp/quay/options.hpp"

namespace qcp::quay {

// The plugin's flags (trust, deadlines, retries, caching, logging, allowed hosts) on a command
// line of any mode: workload commands take every one of them as the plugin does. Each flag not
// given comes from its QUAY_CREDENTIAL_PROVIDER_* variable.
class OptionFlags {
 public:
  // kWorkload leaves out the flags only the kubelet plugin has a use for (--allowed-host,
  // --max-cache-duration).
  enum class FlagSet { kPlugin, kWorkload };
  explicit OptionFlags(CLI::App& app, FlagSet set = FlagSet::kPlugin);  // adds them to `app`
  // After app.parse(): the checked options. Throws Failure (kUsage) naming the flag or variable.
  Options resolve(const Environment& env);

 private:
  struct Text {
    std::string ca_file;
    std::string ca_dir;
    std::string timeout = "20s";
    std::string connect_timeout = "5s";
    std::string attempt_timeout = "10s";
    std::string retries = "3";
    std::string cache_margin = "5m";
    std::string max_cache_duration;
    std::string log_level = "info";
    std::vector<std::string> allowed_hosts;
  };
  CLI::App& app_;
  Text text_;
};

}  // namespace qcp::quay

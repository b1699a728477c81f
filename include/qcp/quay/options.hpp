#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/core/log.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/settings.hpp"

namespace qcp::quay {

// The shared settings, checked and typed. OptionFlags::resolve fills every field from the
// settings table (settings.hpp: flag, variable, default), the one place their defaults live.
struct Options {
  std::string ca_file;
  std::string ca_dir;
  std::chrono::milliseconds timeout{};
  std::chrono::milliseconds connect_timeout{};
  std::chrono::milliseconds attempt_timeout{};
  int retries = 0;
  std::chrono::seconds cache_margin{};
  std::optional<std::chrono::seconds> max_cache_duration;
  LogLevel log_level = LogLevel::kInfo;
  std::vector<std::string> allowed_hosts;
  std::string policy_file;  // "": no policy, the annotations alone decide
  SettingNames names;       // how this run's messages call each setting
};

// What the command line asks for: run as the kubelet plugin, or print text (help, version) and
// exit with the given code.
struct CommandLine {
  bool run_plugin = false;
  Options options;
  std::string text;  // for stdout when !run_plugin
  int exit_code = 0;
};

// Flags first, then QUAY_CREDENTIAL_PROVIDER_* variables for flags not given. Throws Failure
// (kUsage) with one line naming the bad flag or variable.
// `commands_help` goes into --help after the flags: the program's other commands.
CommandLine parse_command_line(std::span<const std::string> args, const Environment& env,
                               std::string_view commands_help = {});

// Every QUAY_CREDENTIAL_PROVIDER_* variable parse_command_line reads.
std::span<const std::string_view> environment_variable_names();

}  // namespace qcp::quay

#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// The settings every mode that talks to Quay shares: trust, deadlines, retries, caching,
// logging, allowed hosts, the credential policy.
enum class Setting {
  kCaFile,
  kCaDir,
  kTimeout,
  kConnectTimeout,
  kAttemptTimeout,
  kRetries,
  kCacheMargin,
  kLogLevel,
  kMaxCacheDuration,
  kAllowedHosts,
  kPolicy,
};
inline constexpr std::size_t kSettingCount = 11;

// One row per setting: the flag, the variable that stands in for it, the default, the help.
// Adding a setting is a row here and its conversion in OptionFlags::resolve.
struct SettingSpec {
  Setting id;
  std::string_view flag;          // "--timeout"
  std::string_view variable;      // "QUAY_CREDENTIAL_PROVIDER_TIMEOUT"
  std::string_view default_text;  // "20s"; "" when unset by default
  std::string_view type_name;     // "DURATION", as --help shows it
  std::string_view help;
  bool plugin_only;  // the kubelet's business (its cache, the annotations' hosts)
  bool list;         // repeatable flag; its variable holds a comma-separated list
};

// Every row, in --help's order.
std::span<const SettingSpec> setting_specs();
const SettingSpec& spec_of(Setting setting);

// What each setting is called in the messages of one run: the flag it was given with, the
// variable its value came from, or, in a mode that takes no flags, its variable. Every setting
// by its flag until told otherwise.
class SettingNames {
 public:
  SettingNames();
  [[nodiscard]] const std::string& operator()(Setting setting) const;
  void set(Setting setting, std::string name);

 private:
  std::array<std::string, kSettingCount> names_;
};

}  // namespace qcp::quay

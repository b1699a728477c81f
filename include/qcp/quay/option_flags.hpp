#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <string>
#include <vector>

#include "qcp/quay/namespace.hpp"
#include "qcp/quay/options.hpp"
#include "qcp/quay/settings.hpp"

namespace qcp::quay {

// The plugin's flags (trust, deadlines, retries, caching, logging, allowed hosts) on a command
// line of any mode: workload commands take every one of them as the plugin does. Each flag not
// given comes from its QUAY_CREDENTIAL_PROVIDER_* variable.
class OptionFlags {
 public:
  // kWorkload leaves out the flags only the kubelet plugin has a use for (--allowed-host,
  // --max-cache-duration); kEnvironment adds no flag at all and reads kWorkload's settings from
  // their variables only, naming them so (docker-credential-quay, which takes no flags);
  // kController is the plugin's without its cache (--cache-margin, --max-cache-duration).
  enum class FlagSet { kPlugin, kWorkload, kEnvironment, kController };
  explicit OptionFlags(CLI::App& app, FlagSet set = FlagSet::kPlugin);  // adds them to `app`
  // After app.parse(): the checked options. Throws Failure (kUsage) naming the flag or variable.
  Options resolve(const Environment& env);

 private:
  // Each setting's text by Setting (settings.hpp), from its flag, else its variable, else its
  // default; --allowed-host's list apart.
  [[nodiscard]] const std::string& text(Setting setting) const;
  // How a message names the setting: the flag when it was given (or nothing gave the value),
  // else the variable the value came from.
  [[nodiscard]] std::string origin(Setting setting, const Environment& env) const;
  [[nodiscard]] bool given(Setting setting) const;
  [[nodiscard]] bool takes(const SettingSpec& spec) const;

  CLI::App& app_;
  FlagSet set_;
  std::array<std::string, kSettingCount> text_;
  std::vector<std::string> allowed_hosts_;
};

}  // namespace qcp::quay

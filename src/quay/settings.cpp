#include "qcp/quay/settings.hpp"

#include <array>
#include <utility>

namespace qcp::quay {
namespace {

constexpr std::array<SettingSpec, kSettingCount> kSettings = {{
    {Setting::kCaFile, "--ca-file", "QUAY_CREDENTIAL_PROVIDER_CA_FILE", "", "PATH",
     "PEM bundle of CAs that may sign Quay's certificate", false, false},
    {Setting::kCaDir, "--ca-dir", "QUAY_CREDENTIAL_PROVIDER_CA_DIR", "", "PATH",
     "Directory of hashed CA certificates (c_rehash layout)", false, false},
    {Setting::kTimeout, "--timeout", "QUAY_CREDENTIAL_PROVIDER_TIMEOUT", "20s", "DURATION",
     "Deadline for the whole lookup, at most 55s", false, false},
    {Setting::kConnectTimeout, "--connect-timeout", "QUAY_CREDENTIAL_PROVIDER_CONNECT_TIMEOUT",
     "5s", "DURATION", "Deadline for the TCP+TLS connection", false, false},
    {Setting::kAttemptTimeout, "--attempt-timeout", "QUAY_CREDENTIAL_PROVIDER_ATTEMPT_TIMEOUT",
     "10s", "DURATION", "Deadline for one attempt (connect, TLS, answer); retries share --timeout",
     false, false},
    {Setting::kRetries, "--retries", "QUAY_CREDENTIAL_PROVIDER_RETRIES", "3", "N",
     "Further attempts after connection failures, timeouts, 5xx and 429 (0-10)", false, false},
    {Setting::kCacheMargin, "--cache-margin", "QUAY_CREDENTIAL_PROVIDER_CACHE_MARGIN", "5m",
     "DURATION", "Stop caching the credential this long before Quay's token expires", false, false},
    {Setting::kLogLevel, "--log-level", "QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL", "info", "LEVEL",
     "trace, debug, info, warn, error or off (stderr only)", false, false},
    {Setting::kMaxCacheDuration, "--max-cache-duration",
     "QUAY_CREDENTIAL_PROVIDER_MAX_CACHE_DURATION", "", "DURATION",
     "Upper bound for the cacheDuration returned to the kubelet", true, false},
    {Setting::kAllowedHosts, "--allowed-host", "QUAY_CREDENTIAL_PROVIDER_ALLOWED_HOSTS", "",
     "HOST[:PORT]", "HOST[:PORT] that a quay.io/host annotation may choose (repeatable)", true,
     true},
    {Setting::kPolicy, "--policy", "QUAY_CREDENTIAL_PROVIDER_POLICY", "", "PATH",
     "Credential policy (docs/policy.md), read on every call (the controller: every 10 s): the "
     "robots each service account "
     "may use, its default robot, the annotations and the Quay hosts",
     true, false},
}};

// The table is indexed by Setting: a row out of place would answer for another setting.
constexpr bool in_order() {
  for (std::size_t i = 0; i < kSettings.size(); ++i) {
    if (static_cast<std::size_t>(kSettings[i].id) != i) {
      return false;
    }
  }
  return true;
}
static_assert(in_order(), "kSettings rows must follow the order of enum Setting");

}  // namespace

std::span<const SettingSpec> setting_specs() {
  return kSettings;
}

const SettingSpec& spec_of(Setting setting) {
  return kSettings[static_cast<std::size_t>(setting)];
}

SettingNames::SettingNames() {
  for (const SettingSpec& spec : kSettings) {
    names_[static_cast<std::size_t>(spec.id)] = spec.flag;
  }
}

const std::string& SettingNames::operator()(Setting setting) const {
  return names_[static_cast<std::size_t>(setting)];
}

void SettingNames::set(Setting setting, std::string name) {
  names_[static_cast<std::size_t>(setting)] = std::move(name);
}

}  // namespace qcp::quay

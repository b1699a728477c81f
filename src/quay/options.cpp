#include "qcp/quay/options.hpp"

#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <functional>
#include <utility>

#include "qcp/core/cli_parse.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/option_flags.hpp"
#include "qcp/version.hpp"

namespace qcp::quay {
namespace {

// The kubelet SIGKILLs a provider after 60 s; leave room for process start and output.
constexpr std::chrono::milliseconds kMaxTimeout{55'000};

Failure usage(const std::string& message) {
  return {ExitCode::kUsage, message};
}

std::chrono::nanoseconds duration_value(const std::string& text, const std::string& origin) {
  const auto parsed = parse_go_duration(text);
  if (!parsed) {
    throw usage(origin + " must be a duration such as 30s, 5m or 1h30m");
  }
  if (parsed->count() < 0) {
    throw usage(origin + " must not be negative");
  }
  return *parsed;
}

LogLevel log_level_value(const std::string& text, const std::string& origin) {
  constexpr std::array<std::pair<std::string_view, LogLevel>, 7> kLevels = {{
      {"trace", LogLevel::kTrace},
      {"debug", LogLevel::kDebug},
      {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},
      {"warning", LogLevel::kWarn},
      {"error", LogLevel::kError},
      {"off", LogLevel::kOff},
  }};
  for (const auto& [name, level] : kLevels) {
    if (text == name) {
      return level;
    }
  }
  throw usage(origin + " must be one of trace, debug, info, warn, error, off");
}

std::string version_text() {
  return std::string(kProgramName) + " " + std::string(kVersion) + " (commit " +
         std::string(kCommit) + "; " + curl_version() + ")\n";
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    if (comma > start) {
      items.push_back(text.substr(start, comma - start));
    }
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::span<const std::string_view> environment_variable_names() {
  static const std::array<std::string_view, kSettingCount> kNames = [] {
    std::array<std::string_view, kSettingCount> names{};
    for (std::size_t i = 0; i < names.size(); ++i) {
      names[i] = setting_specs()[i].variable;
    }
    return names;
  }();
  return kNames;
}

OptionFlags::OptionFlags(CLI::App& app, FlagSet set) : app_(app), set_(set) {
  for (const SettingSpec& spec : setting_specs()) {
    text_[static_cast<std::size_t>(spec.id)] = spec.default_text;
    if (!takes(spec) || set == FlagSet::kEnvironment) {
      continue;
    }
    const std::string flag(spec.flag);
    const std::string help(spec.help);
    if (spec.list) {
      // One value per occurrence: "--allowed-host a b" must not silently allow b.
      app.add_option(flag, allowed_hosts_, help)
          ->type_name(std::string(spec.type_name))
          ->allow_extra_args(false);
      continue;
    }
    std::string& value = text_[static_cast<std::size_t>(spec.id)];
    auto* option = app.add_option(flag, value, help)->type_name(std::string(spec.type_name));
    if (!spec.default_text.empty()) {
      option->capture_default_str();
    }
  }
}

const std::string& OptionFlags::text(Setting setting) const {
  return text_[static_cast<std::size_t>(setting)];
}

// The plugin takes every setting; the controller the annotations' hosts and the policy but no
// cache (it renews by --renew-before); the other modes leave the kubelet's business alone.
bool OptionFlags::takes(const SettingSpec& spec) const {
  if (set_ == FlagSet::kController) {
    return spec.id != Setting::kCacheMargin && spec.id != Setting::kMaxCacheDuration;
  }
  return !spec.plugin_only || set_ == FlagSet::kPlugin;
}

bool OptionFlags::given(Setting setting) const {
  const std::string flag(spec_of(setting).flag);
  return set_ != FlagSet::kEnvironment && app_.get_option_no_throw(flag) != nullptr &&
         app_.count(flag) > 0;
}

std::string OptionFlags::origin(Setting setting, const Environment& env) const {
  const SettingSpec& spec = spec_of(setting);
  if (given(setting)) {
    return std::string(spec.flag);
  }
  return set_ == FlagSet::kEnvironment || env.get(spec.variable) ? std::string(spec.variable)
                                                                 : std::string(spec.flag);
}

namespace {

// The three deadlines, each within the one above it.
void resolve_deadlines(Options& options, const std::function<std::string(Setting)>& text,
                       const std::function<std::string(Setting)>& origin) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto deadline = [&](Setting setting) {
    return duration_cast<milliseconds>(duration_value(text(setting), origin(setting)));
  };
  options.timeout = deadline(Setting::kTimeout);
  if (options.timeout < milliseconds{1} || options.timeout > kMaxTimeout) {
    throw usage(origin(Setting::kTimeout) +
                " must be between 1ms and 55s: the kubelet kills the provider at 60s");
  }
  options.connect_timeout = deadline(Setting::kConnectTimeout);
  if (options.connect_timeout < milliseconds{1}) {
    throw usage(origin(Setting::kConnectTimeout) + " must be at least 1ms");
  }
  options.attempt_timeout = deadline(Setting::kAttemptTimeout);
  if (options.attempt_timeout < milliseconds{1}) {
    throw usage(origin(Setting::kAttemptTimeout) + " must be at least 1ms");
  }
  options.attempt_timeout = std::min(options.attempt_timeout, options.timeout);
  options.connect_timeout = std::min(options.connect_timeout, options.attempt_timeout);
}

int retries_value(const std::string& text, const std::string& origin) {
  constexpr int kMaxRetries = 10;
  if (text.empty() || text.size() > 2 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(text) > kMaxRetries) {
    throw usage(origin + " must be a whole number from 0 to 10");
  }
  return std::stoi(text);
}

// How long the kubelet may keep the credential.
void resolve_caching(Options& options, const std::function<std::string(Setting)>& text,
                     const std::function<std::string(Setting)>& origin) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  options.cache_margin = duration_cast<seconds>(
      duration_value(text(Setting::kCacheMargin), origin(Setting::kCacheMargin)));
  if (options.cache_margin >= kQuayTokenLifetime) {
    throw usage(origin(Setting::kCacheMargin) +
                " must be shorter than 1h, the lifetime of Quay's tokens, or nothing is cacheable");
  }
  if (const std::string bound = text(Setting::kMaxCacheDuration); !bound.empty()) {
    options.max_cache_duration =
        duration_cast<seconds>(duration_value(bound, origin(Setting::kMaxCacheDuration)));
  }
}

}  // namespace

Options OptionFlags::resolve(const Environment& env) {
  // A flag this mode does not take is neither given nor read from its variable.
  Options options;
  for (const SettingSpec& spec : setting_specs()) {
    options.names.set(spec.id, origin(spec.id, env));
    if (!takes(spec) || given(spec.id)) {
      continue;
    }
    if (auto value = env.get(spec.variable)) {
      if (spec.list) {
        allowed_hosts_ = split_list(*value);
      } else {
        text_[static_cast<std::size_t>(spec.id)] = std::move(*value);
      }
    }
  }
  const auto text_of = [this](Setting setting) { return text(setting); };
  const auto origin_of = [this, &env](Setting setting) { return origin(setting, env); };
  options.ca_file = text(Setting::kCaFile);
  options.ca_dir = text(Setting::kCaDir);
  resolve_deadlines(options, text_of, origin_of);
  options.retries = retries_value(text(Setting::kRetries), origin_of(Setting::kRetries));
  resolve_caching(options, text_of, origin_of);
  options.log_level = log_level_value(text(Setting::kLogLevel), origin_of(Setting::kLogLevel));
  for (const auto& host : allowed_hosts_) {
    if (!is_valid_host_port(host)) {
      throw usage(origin_of(Setting::kAllowedHosts) + " value \"" + Redactor{}.scrub(host, 80) +
                  "\" is not HOST[:PORT] (no scheme, no path)");
    }
  }
  options.allowed_hosts = allowed_hosts_;
  options.policy_file = text(Setting::kPolicy);
  return options;
}

CommandLine parse_command_line(std::span<const std::string> args, const Environment& env,
                               std::string_view commands_help) {
  CLI::App app(
      "Kubelet image credential provider: exchanges the pod's service-account token "
      "for a Quay robot token (robot federation). Reads one CredentialProviderRequest "
      "on stdin and writes one CredentialProviderResponse on stdout.",
      std::string(kProgramName));
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.set_version_flag("--version", version_text(), "Print the version and exit");
  app.get_formatter()->column_width(34);
  app.footer(
      "Each flag may instead come from QUAY_CREDENTIAL_PROVIDER_<FLAG> (e.g. "
      "QUAY_CREDENTIAL_PROVIDER_TIMEOUT=10s; --allowed-host takes a comma-separated list). "
      "SSL_CERT_FILE and SSL_CERT_DIR are honoured after --ca-file/--ca-dir.\n\n" +
      std::string(commands_help) +
      "Documentation: docs/configuration.md, docs/install.md, docs/troubleshooting.md, "
      "docs/kind.md.");

  OptionFlags flags(app);
  CommandLine result;
  try {
    parse_arguments(app, args, "");
  } catch (const CLI::CallForHelp&) {
    result.text = app.help();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.text = version_text();
    return result;
  }

  result.options = flags.resolve(env);
  result.run_plugin = true;
  return result;
}

}  // namespace qcp::quay

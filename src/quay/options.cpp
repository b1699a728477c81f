#include "qcp/quay/options.hpp"

#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
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

struct Setting {
  const char* flag;
  const char* variable;
  std::string* value;
};

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

constexpr std::string_view kAllowedHostsVariable = "QUAY_CREDENTIAL_PROVIDER_ALLOWED_HOSTS";

}  // namespace

std::span<const std::string_view> environment_variable_names() {
  static constexpr std::array<std::string_view, 10> kNames = {
      "QUAY_CREDENTIAL_PROVIDER_CA_FILE",         "QUAY_CREDENTIAL_PROVIDER_CA_DIR",
      "QUAY_CREDENTIAL_PROVIDER_TIMEOUT",         "QUAY_CREDENTIAL_PROVIDER_CONNECT_TIMEOUT",
      "QUAY_CREDENTIAL_PROVIDER_ATTEMPT_TIMEOUT", "QUAY_CREDENTIAL_PROVIDER_RETRIES",
      "QUAY_CREDENTIAL_PROVIDER_CACHE_MARGIN",    "QUAY_CREDENTIAL_PROVIDER_MAX_CACHE_DURATION",
      "QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL",       kAllowedHostsVariable,
  };
  return kNames;
}

OptionFlags::OptionFlags(CLI::App& app, FlagSet set) : app_(app) {
  app.add_option("--ca-file", text_.ca_file, "PEM bundle of CAs that may sign Quay's certificate")
      ->type_name("PATH");
  app.add_option("--ca-dir", text_.ca_dir, "Directory of hashed CA certificates (c_rehash layout)")
      ->type_name("PATH");
  app.add_option("--timeout", text_.timeout, "Deadline for the whole lookup, at most 55s")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--connect-timeout", text_.connect_timeout, "Deadline for the TCP+TLS connection")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--attempt-timeout", text_.attempt_timeout,
                 "Deadline for one attempt (connect, TLS, answer); retries share --timeout")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--retries", text_.retries,
                 "Further attempts after connection failures, timeouts, 5xx and 429 (0-10)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--cache-margin", text_.cache_margin,
                 "Stop caching the credential this long before Quay's token expires")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--log-level", text_.log_level,
                 "trace, debug, info, warn, error or off (stderr only)")
      ->type_name("LEVEL")
      ->capture_default_str();
  if (set == FlagSet::kWorkload) {
    return;  // the rest is the kubelet's business: its cache and the annotations' hosts
  }
  app.add_option("--max-cache-duration", text_.max_cache_duration,
                 "Upper bound for the cacheDuration returned to the kubelet")
      ->type_name("DURATION");
  // One value per occurrence: "--allowed-host a b" must not silently allow b.
  app.add_option("--allowed-host", text_.allowed_hosts,
                 "HOST[:PORT] that a quay.io/host annotation may choose (repeatable)")
      ->type_name("HOST[:PORT]")
      ->allow_extra_args(false);
}

Options OptionFlags::resolve(const Environment& env) {
  auto& [ca_file, ca_dir, timeout, connect_timeout, attempt_timeout, retries, cache_margin,
         max_cache_duration, log_level, allowed_hosts] = text_;
  CLI::App& app = app_;
  std::array<Setting, 9> settings = {{
      {"--ca-file", "QUAY_CREDENTIAL_PROVIDER_CA_FILE", &ca_file},
      {"--ca-dir", "QUAY_CREDENTIAL_PROVIDER_CA_DIR", &ca_dir},
      {"--timeout", "QUAY_CREDENTIAL_PROVIDER_TIMEOUT", &timeout},
      {"--connect-timeout", "QUAY_CREDENTIAL_PROVIDER_CONNECT_TIMEOUT", &connect_timeout},
      {"--cache-margin", "QUAY_CREDENTIAL_PROVIDER_CACHE_MARGIN", &cache_margin},
      {"--max-cache-duration", "QUAY_CREDENTIAL_PROVIDER_MAX_CACHE_DURATION", &max_cache_duration},
      {"--log-level", "QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL", &log_level},
      {"--attempt-timeout", "QUAY_CREDENTIAL_PROVIDER_ATTEMPT_TIMEOUT", &attempt_timeout},
      {"--retries", "QUAY_CREDENTIAL_PROVIDER_RETRIES", &retries},
  }};
  // A flag this mode does not take is neither given nor read from its variable.
  const auto has = [&app](const char* flag) { return app.get_option_no_throw(flag) != nullptr; };
  const auto given = [&](const char* flag) { return has(flag) && app.count(flag) > 0; };
  auto origin_of = [&](const Setting& setting) {
    return given(setting.flag) || !env.get(setting.variable) ? std::string(setting.flag)
                                                             : std::string(setting.variable);
  };
  for (auto& setting : settings) {
    if (has(setting.flag) && !given(setting.flag)) {
      if (auto value = env.get(setting.variable)) {
        *setting.value = std::move(*value);
      }
    }
  }
  if (has("--allowed-host") && !given("--allowed-host")) {
    if (const auto value = env.get(kAllowedHostsVariable)) {
      allowed_hosts = split_list(*value);
    }
  }

  Options options;
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  options.ca_file = ca_file;
  options.ca_dir = ca_dir;
  options.timeout = duration_cast<milliseconds>(duration_value(timeout, origin_of(settings[2])));
  if (options.timeout < milliseconds{1} || options.timeout > kMaxTimeout) {
    throw usage(origin_of(settings[2]) +
                " must be between 1ms and 55s: the kubelet kills the provider at 60s");
  }
  options.connect_timeout =
      duration_cast<milliseconds>(duration_value(connect_timeout, origin_of(settings[3])));
  if (options.connect_timeout < milliseconds{1}) {
    throw usage(origin_of(settings[3]) + " must be at least 1ms");
  }
  options.attempt_timeout =
      duration_cast<milliseconds>(duration_value(attempt_timeout, origin_of(settings[7])));
  if (options.attempt_timeout < milliseconds{1}) {
    throw usage(origin_of(settings[7]) + " must be at least 1ms");
  }
  options.attempt_timeout = std::min(options.attempt_timeout, options.timeout);
  options.connect_timeout = std::min(options.connect_timeout, options.attempt_timeout);
  constexpr int kMaxRetries = 10;
  if (retries.empty() || retries.size() > 2 ||
      !std::all_of(retries.begin(), retries.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(retries) > kMaxRetries) {
    throw usage(origin_of(settings[8]) + " must be a whole number from 0 to 10");
  }
  options.retries = std::stoi(retries);
  options.cache_margin =
      duration_cast<seconds>(duration_value(cache_margin, origin_of(settings[4])));
  if (options.cache_margin >= kQuayTokenLifetime) {
    throw usage(origin_of(settings[4]) +
                " must be shorter than 1h, the lifetime of Quay's tokens, or nothing is cacheable");
  }
  if (!max_cache_duration.empty()) {
    options.max_cache_duration =
        duration_cast<seconds>(duration_value(max_cache_duration, origin_of(settings[5])));
  }
  options.log_level = log_level_value(log_level, origin_of(settings[6]));
  for (const auto& host : allowed_hosts) {
    if (!is_valid_host_port(host)) {
      throw usage((given("--allowed-host") ? std::string("--allowed-host")
                                           : std::string(kAllowedHostsVariable)) +
                  " value \"" + Redactor{}.scrub(host, 80) +
                  "\" is not HOST[:PORT] (no scheme, no path)");
    }
  }
  options.allowed_hosts = std::move(allowed_hosts);
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

#include "qcp/quay/exchange_settings.hpp"

#include <initializer_list>
#include <string_view>

#include "qcp/core/proxy.hpp"
#include "qcp/net/trust.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/version.hpp"

namespace qcp::quay {
namespace {

struct Variable {
  std::string_view name;
  std::string value;
};

// The first non-empty variable, in the order libcurl and Go's net/http give precedence.
Variable first_set(const Environment& env, std::initializer_list<std::string_view> names) {
  for (const auto name : names) {
    if (auto value = env.get(name); value && !value->empty()) {
      return {name, *value};
    }
  }
  return {};
}

}  // namespace

ExchangeSettings exchange_settings(const Options& options, const Environment& env,
                                   std::chrono::steady_clock::time_point deadline, Log& log) {
  ExchangeSettings settings;
  settings.names = options.names;
  settings.trust = discover_trust(
      {.ca_file = options.ca_file, .ca_dir = options.ca_dir}, env,
      {.ca_file = options.names(Setting::kCaFile), .ca_dir = options.names(Setting::kCaDir)});
  const Variable proxy_variable = first_set(env, {"https_proxy", "HTTPS_PROXY"});
  if (!proxy_variable.value.empty()) {
    const ProxyUrl proxy = parse_proxy_url(proxy_variable.value, proxy_variable.name);
    settings.proxy = proxy.url;
    settings.proxy_userinfo = proxy.userinfo;
    log.debug("connecting through proxy {} (from {})", proxy.display, proxy_variable.name);
  }
  settings.no_proxy = first_set(env, {"no_proxy", "NO_PROXY"}).value;
  settings.connect_timeout = options.connect_timeout;
  settings.attempt_timeout = options.attempt_timeout;
  settings.total_timeout = options.timeout;
  settings.deadline = deadline;
  settings.retries = options.retries;
  settings.on_retry = [&log](const std::string& why) { log.debug("{}", why); };
  settings.user_agent = std::string(kProgramName) + "/" + std::string(kVersion);
  return settings;
}

}  // namespace qcp::quay

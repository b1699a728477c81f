#include "qcp/plugin/plugin.hpp"

#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>

#include "plugin/robots.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stream_output.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/kube/response.hpp"
#include "qcp/plugin/namespace.hpp"
#include "qcp/quay/exchange_settings.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/options.hpp"
#include "qcp/quay/policy.hpp"
#include "qcp/version.hpp"

namespace qcp::plugin {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

// Kubernetes service-account tokens are 1-3 KiB; proxies and Quay's nginx refuse headers of
// 8-64 KiB. Larger is a broken request, refused before any network use.
constexpr std::size_t kMaxServiceAccountTokenBytes = std::size_t{64} << 10;

struct LookupResult {
  std::string response;  // for stdout; holds the robot token
  std::string summary;   // for the log once the response is out; no secret in it
};

// Throws when the deadline passes before stdin has reached its end.
std::function<void()> stdin_waiter(const Streams& streams, const Clock& clock,
                                   std::chrono::steady_clock::time_point deadline,
                                   std::chrono::milliseconds timeout) {
  if (!streams.wait_for_input) {
    return {};
  }
  return [&streams, &clock, deadline, timeout] {
    const auto left = std::chrono::floor<std::chrono::milliseconds>(deadline - clock.monotonic());
    if (left < std::chrono::milliseconds{1} || !streams.wait_for_input(left)) {
      throw Failure(ExitCode::kBadRequest,
                    "stdin was not closed within --timeout " +
                        format_human(std::chrono::ceil<std::chrono::seconds>(timeout)) +
                        ": the kubelet writes one request and closes stdin");
    }
  };
}

// The kubelet's service-account token, checked before anything is sent: present (the config
// gives tokenAttributes), of a size Quay's web server takes, a JWT.
void check_service_account_token(const std::string& token, Log& log) {
  if (token.empty()) {
    throw Failure(ExitCode::kBadRequest,
                  "the request has no serviceAccountToken: give this provider tokenAttributes "
                  "(serviceAccountTokenAudience, requireServiceAccount: true, and on 1.34+ "
                  "cacheType) in the kubelet's CredentialProviderConfig, with apiVersion "
                  "credentialprovider.kubelet.k8s.io/v1 and, on 1.33, the kubelet feature gate "
                  "KubeletServiceAccountTokenForCredentialProviders");
  }
  if (token.size() > kMaxServiceAccountTokenBytes) {
    throw Failure(ExitCode::kBadRequest,
                  "serviceAccountToken is " + std::to_string(token.size()) +
                      " bytes, more than the " + std::to_string(kMaxServiceAccountTokenBytes) +
                      " accepted: service-account tokens are a few KiB, and Quay's web server "
                      "refuses such a header");
  }
  const auto sa_claims = decode_jwt_claims(token);
  if (!sa_claims) {
    throw Failure(ExitCode::kBadRequest,
                  "serviceAccountToken is not a JWT; the kubelet sends a service-account token "
                  "requested for tokenAttributes.serviceAccountTokenAudience");
  }
  if (log.enabled(LogLevel::kDebug)) {  // a digest's first use costs ~1.7 M instructions
    log.debug("service-account token: iss={} sub={} aud={} exp={} sha256={}", sa_claims->iss,
              sa_claims->sub, join(sa_claims->aud), sa_claims->exp.value_or(0), short_hash(token));
  }
}

// The response: one auth entry per robot, cached as long as the shortest-lived one allows;
// per image only when a robot is missing from it, so that another organisation's image asks
// again (and fails visibly in the kubelet's log) instead of reusing an answer without its key.
LookupResult respond(std::string_view api_version, const MintedRobots& minted) {
  Credentials credentials{
      .api_version = api_version,
      .auth = {},
      .cache_duration = minted.robots.front().cache_for,
      .cache_key_type = minted.failures.empty() ? CacheKeyType::kRegistry : CacheKeyType::kImage};
  std::string summary;
  for (const MintedRobot& robot : minted.robots) {
    credentials.auth.push_back({.key = robot.auth_key,
                                .username = robot.credential.robot,
                                .password = robot.credential.token});
    credentials.cache_duration = std::min(credentials.cache_duration, robot.cache_for);
    summary += (summary.empty() ? "credential for robot " : ", robot ") + robot.credential.robot +
               " on " + robot.auth_key +
               ": Quay token sha256=" + short_hash(robot.credential.token);
  }
  return {.response = render_response(credentials),
          .summary = summary + ", cached for " + format_human(credentials.cache_duration)};
}

// request -> identity -> exchange -> response, all under one deadline.
LookupResult lookup(const Streams& streams, const Options& options, const Environment& env,
                    HttpClient& http, const Clock& clock, Log& log) {
  const auto deadline = clock.monotonic() + options.timeout;
  std::string raw_request = read_request(streams.in, kMaxRequestBytes,
                                         stdin_waiter(streams, clock, deadline, options.timeout));
  const WipeOnExit wipe_raw(raw_request);
  CredentialProviderRequest request = parse_request(raw_request);
  wipe(raw_request);
  const WipeOnExit wipe_token(request.service_account_token);
  log.debug("request: apiVersion={} image={} annotations={}", request.api_version, request.image,
            request.service_account_annotations.size());

  check_service_account_token(request.service_account_token, log);

  std::optional<Policy> policy;
  if (!options.policy_file.empty()) {
    policy = load_node_policy(options.policy_file);
  }
  const Resolution resolution = resolve_identities(
      request, {.allowed_hosts = options.allowed_hosts, .policy = policy ? &*policy : nullptr});
  if (!resolution.rule.empty()) {
    log.debug("{} applies; robots {}", resolution.rule,
              resolution.defaulted ? "from its defaultRobot" : "from the annotation");
  }
  const ExchangeSettings settings = exchange_settings(options, env, deadline, log);
  MintedRobots minted = mint_robots(http, resolution, request.image, request.service_account_token,
                                    settings, options, clock, log);
  const WipeRobotsOnExit wipe_minted(minted);
  return respond(request.api_version, minted);
}

}  // namespace

int plugin_command(std::span<const std::string> args, Streams streams, const Environment& env,
                   HttpClient& http, const Clock& clock, std::string_view commands_help) {
  const CommandLine command = parse_command_line(args, env, commands_help);
  if (!command.run_plugin) {
    streams.out << command.text;
    streams.out.flush();
    return command.exit_code;
  }
  const auto log = make_logger(streams.err, command.options.log_level);
  LookupResult result = lookup(streams, command.options, env, http, clock, *log);
  const WipeOnExit wipe_response(result.response);
  write_answer(streams.out, result.response);
  log->info("{}", result.summary);  // only now: a failed write must not be logged as success
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace qcp::plugin

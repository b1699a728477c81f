#include "qcp/workload/credential_helper.hpp"

#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "qcp/core/cli_parse.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stream_input.hpp"
#include "qcp/quay/option_flags.hpp"
#include "qcp/version.hpp"
#include "qcp/workload/helper_config.hpp"
#include "qcp/workload/namespace.hpp"
#include "workload/workload.hpp"

namespace qcp::workload {
namespace {

// The docker-credential-helpers messages clients look for, byte for byte.
constexpr std::string_view kNotFound = "credentials not found in native keychain";
constexpr std::string_view kNoServerUrl = "no credentials server URL";
// A server URL is a host name with a scheme and path at most; a JSON credential a few KiB.
constexpr std::size_t kMaxInputBytes = std::size_t{64} << 10;

Options helper_options(const Environment& env) {
  CLI::App app;
  OptionFlags flags(app, OptionFlags::FlagSet::kEnvironment);
  parse_arguments(app, {}, kHelperProgramName);
  return flags.resolve(env);
}

// stdin to its end, bounded in size and by `deadline`: a tool that never closes it cannot hold
// the helper (the same reader as the plugin's).
std::string read_input(const Streams& streams, std::chrono::steady_clock::time_point deadline,
                       const Clock& clock) {
  std::function<void()> wait;
  if (streams.wait_for_input) {
    wait = [&streams, &clock, deadline] {
      const auto left = std::chrono::floor<std::chrono::milliseconds>(deadline - clock.monotonic());
      if (left < std::chrono::milliseconds{1} || !streams.wait_for_input(left)) {
        throw Failure(ExitCode::kBadRequest,
                      "stdin was not closed within QUAY_CREDENTIAL_PROVIDER_TIMEOUT: tools write "
                      "the server URL and close it");
      }
    };
  }
  auto input = read_bounded(streams.in, kMaxInputBytes, wait);
  if (!input) {
    throw Failure(ExitCode::kBadRequest,
                  "stdin held more than " + std::to_string(kMaxInputBytes) +
                      " bytes: tools write one server URL (get, erase) or one credential (store)");
  }
  return std::move(*input);
}

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

int get(Streams& streams, const Environment& env, HttpClient& http, const Clock& clock) {
  Options options = helper_options(env);
  const auto deadline = clock.monotonic() + options.timeout;
  const std::string server_url = trimmed(read_input(streams, deadline, clock));
  if (server_url.empty()) {
    throw Failure(ExitCode::kBadRequest, std::string(kNoServerUrl));
  }
  const auto registry = workload::registry_of_server_url(server_url);
  const auto entries = workload::load_helper_config(env);
  const auto* entry = registry ? workload::entry_for(entries, *registry) : nullptr;
  if (entry == nullptr) {
    // The expected answer for other registries (clients fall back to anonymous): no stderr.
    streams.out << kNotFound << '\n';
    streams.out.flush();
    return 1;
  }
  // The exchange gets what is left of the one deadline.
  options.timeout =
      std::max(std::chrono::milliseconds{1},
               std::chrono::floor<std::chrono::milliseconds>(deadline - clock.monotonic()));
  const auto log = make_logger(streams.err, options.log_level);
  const workload::WorkloadTarget target{.robot = entry->robot,
                                        .registry = *registry,
                                        .quay_host = entry->quay_host,
                                        .source = entry->source};
  workload::RobotCredential credential =
      workload::obtain_credential(target, options, env, http, clock, *log);
  const WipeOnExit wipe_token(credential.token);
  std::string answer =
      nlohmann::json{
          {"ServerURL", server_url}, {"Username", credential.robot}, {"Secret", credential.token}}
          .dump() +
      "\n";
  const WipeOnExit wipe_answer(answer);
  streams.out << answer;
  streams.out.flush();
  if (!streams.out) {
    throw Failure(ExitCode::kLookupFailed, "the credential could not be written to stdout");
  }
  log->info("credential for robot {} on {}: Quay token sha256={}", credential.robot,
            credential.registry, short_hash(credential.token));
  return 0;
}

int list(Streams& streams, const Environment& env) {
  nlohmann::json servers = nlohmann::json::object();
  for (const auto& entry : workload::load_helper_config(env)) {
    if (!entry.registry.empty()) {
      servers[entry.registry] = entry.robot;
    }
  }
  streams.out << servers.dump() << '\n';
  streams.out.flush();
  return 0;
}

int dispatch(std::span<const std::string> args, Streams& streams, const Environment& env,
             HttpClient& http, const Clock& clock) {
  if (args.size() != 1) {
    throw Failure(ExitCode::kUsage,
                  "Usage: " + std::string(kHelperProgramName) + " <store|get|erase|list|version>");
  }
  const std::string& action = args.front();
  if (action == "get") {
    return get(streams, env, http, clock);
  }
  if (action == "list") {
    return list(streams, env);
  }
  if (action == "store" || action == "erase") {
    // Minted, not stored: nothing to keep or forget.
    static_cast<void>(read_input(streams, clock.monotonic() + helper_options(env).timeout, clock));
    return 0;
  }
  if (action == "version") {
    streams.out << kHelperProgramName << " (" << kProgramName << ") " << kVersion << '\n';
    streams.out.flush();
    return 0;
  }
  throw Failure(ExitCode::kUsage,
                "Unknown credential action `" +
                    (action.size() <= 16 ? one_line(action) : std::string("...")) + "`");
}

}  // namespace

int credential_helper_command(std::span<const std::string> args, Streams streams,
                              const Environment& env, HttpClient& http, const Clock& clock) {
  return dispatch(args, streams, env, http, clock);
}

}  // namespace qcp::workload

#include "workload/workload.hpp"

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/exchange_settings.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {
namespace {

// The token command's environment: the process's own (a CI runner's OIDC variables, HOME),
// which isolate_process_environment() took away from this process itself.
std::vector<std::string> command_environment(const Environment& env) {
  std::vector<std::string> variables;
  variables.reserve(env.variables.size());
  for (const auto& [name, value] : env.variables) {
    variables.push_back(name + "=" + value);
  }
  return variables;
}

}  // namespace

void check_target(const WorkloadTarget& target, std::string_view command) {
  const std::string prefix = std::string(command) + ": ";
  if (!is_valid_robot_name(target.robot)) {
    throw Failure(ExitCode::kUsage, prefix + "--robot must be a Quay robot, org+name");
  }
  if (!is_valid_host_port(target.registry)) {
    throw Failure(ExitCode::kUsage,
                  prefix + "--registry must be the registry's HOST[:PORT] (no scheme, no path)");
  }
  if (!target.quay_host.empty() && !is_valid_host_port(target.quay_host)) {
    throw Failure(ExitCode::kUsage, prefix + "--quay-host must be Quay's HOST[:PORT]");
  }
  if (target.source.file.empty() == target.source.command.empty()) {
    throw Failure(ExitCode::kUsage,
                  prefix + "give exactly one of --token-file and --token-command");
  }
}

RobotCredential obtain_credential(const WorkloadTarget& target, const Options& options,
                                  const Environment& env, HttpClient& http, const Clock& clock,
                                  Log& log) {
  const auto deadline = clock.monotonic() + options.timeout;
  std::string identity_token =
      read_token(target.source, command_environment(env), deadline, clock,
                 [&log](const std::string& warning) { log.warn("{}", one_line(warning)); });
  const WipeOnExit wipe_identity(identity_token);
  log.debug("identity token sha256={}", short_hash(identity_token));
  const Identity identity{
      .robot = target.robot,
      .registry = target.registry,
      .quay_host = target.quay_host.empty() ? target.registry : target.quay_host};
  const ExchangeSettings settings = exchange_settings(options, env, deadline, log);
  return mint_credential(http, identity, identity_token, settings, clock, log);
}

}  // namespace qcp::workload

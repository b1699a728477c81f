#include "qcp/diagnostics/commands.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>

#include "diagnostics/inspect_policy.hpp"
#include "diagnostics/stdin_text.hpp"
#include "qcp/core/cli_parse.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/text.hpp"
#include "qcp/diagnostics/inspect.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/policy.hpp"
#include "qcp/version.hpp"

namespace qcp::diagnostics {

namespace {

// A whole CredentialProviderRequest: its token (the request's own copy wiped), and its robot
// annotation (`robot_key`; a comma-separated list when it names several) when --robot named none.
std::string token_from_request(std::string& text, std::string_view robot_key, std::string& robot) {
  CredentialProviderRequest request = parse_request(text);
  wipe(text);
  std::string token = request.service_account_token;
  wipe(request.service_account_token);
  if (robot.empty()) {
    if (const auto found = request.service_account_annotations.find(robot_key);
        found != request.service_account_annotations.end()) {
      const auto robots = split_robots(found->second);
      if (std::all_of(robots.begin(), robots.end(), is_valid_robot_name)) {
        robot = found->second;
      }
    }
  }
  if (token.empty()) {
    throw Failure(ExitCode::kBadRequest, "inspect: the request has no serviceAccountToken");
  }
  return token;
}

}  // namespace

int inspect_command(std::span<const std::string> args, Streams streams, const Clock& clock,
                    const Environment& env) {
  CLI::App app(
      "Decodes (does not verify) a service-account token and prints its issuer, subject, "
      "audiences and expiry, the exact Quay federation binding that accepts it, and what would "
      "make Quay refuse it. The token itself is never printed. Reads the token, or a whole "
      "CredentialProviderRequest, from stdin when TOKEN is - or absent.",
      std::string(kProgramName) + " inspect");
  app.set_help_flag("-h,--help", "Print this help and exit");
  std::string token_argument;
  std::string robot;
  app.add_option("token", token_argument,
                 "The token, or - for stdin (preferred: arguments are "
                 "visible to other users)")
      ->type_name("TOKEN|-");
  app.add_option("--robot", robot, "The Quay robot (org+name) to fill into the binding")
      ->type_name("ORG+NAME");
  std::string policy_file;
  app.add_option("--policy", policy_file,
                 "The provider's credential policy: say which rule the token falls under and "
                 "whether it allows --robot")
      ->type_name("FILE");
  app.footer("Example: kubectl create token puller -n team-a --audience quay | " +
             std::string(kProgramName) + " inspect --robot team+puller -");
  const WipeOnExit wipe_argument(token_argument);
  if (!parse_subcommand(app, "inspect", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  if (!robot.empty() && !is_valid_robot_name(robot)) {
    throw Failure(ExitCode::kUsage, "inspect: --robot must be a Quay robot name, org+name");
  }
  std::optional<Policy> policy;
  if (!policy_file.empty()) {
    policy = load_policy(env, policy_file);  // before the token is read: a usage error first
  }

  std::string input;
  const WipeOnExit wipe_input(input);
  if (token_argument.empty() || token_argument == "-") {
    input = read_stdin(streams.in);
  } else {
    input = token_argument;
    streams.err << kProgramName
                << ": note: a token given as an argument is visible to other users of this "
                   "machine; prefer piping it to `inspect -`\n";
  }
  std::string token(trimmed(input));
  const WipeOnExit wipe_token(token);
  if (token.starts_with('{')) {
    token = token_from_request(token, policy ? policy->robot_annotation : kRobotAnnotation, robot);
  }
  const auto claims = decode_jwt_claims(token);
  if (!claims) {
    throw Failure(ExitCode::kBadRequest,
                  "inspect: the input is not a JWT (three base64url parts joined by dots); pass "
                  "a service-account token, e.g. from kubectl create token");
  }
  // The binding is for one robot: the first of an annotation's list.
  const auto inspection = inspect_token(*claims, split_robots(robot).front(), clock.now());
  streams.out << "token:      sha256 " << short_hash(token) << " (as in the provider's logs)\n"
              << inspection.text;
  bool refused = !inspection.refusals.empty();
  if (policy) {
    const auto verdict = inspect_policy(*policy, *claims, robot);
    streams.out << verdict.text;
    refused = refused || !verdict.refusals.empty();
  }
  streams.out.flush();
  return static_cast<int>(refused ? ExitCode::kLookupFailed : ExitCode::kOk);
}

}  // namespace qcp::diagnostics

#include "qcp/diagnostics/commands.hpp"

#include <CLI/CLI.hpp>
#include <istream>
#include <ostream>

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
#include "qcp/version.hpp"

namespace qcp::diagnostics {

namespace {

// A whole CredentialProviderRequest: its token (the request's own copy wiped), and its robot
// annotation when --robot named none.
std::string token_from_request(std::string& text, std::string& robot) {
  CredentialProviderRequest request = parse_request(text);
  wipe(text);
  std::string token = request.service_account_token;
  wipe(request.service_account_token);
  if (robot.empty()) {
    if (const auto found = request.service_account_annotations.find(kRobotAnnotation);
        found != request.service_account_annotations.end() && is_valid_robot_name(found->second)) {
      robot = found->second;
    }
  }
  if (token.empty()) {
    throw Failure(ExitCode::kBadRequest, "inspect: the request has no serviceAccountToken");
  }
  return token;
}

}  // namespace

int inspect_command(std::span<const std::string> args, Streams streams, const Clock& clock) {
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
  app.footer("Example: kubectl create token puller -n team-a --audience quay | " +
             std::string(kProgramName) + " inspect --robot team+puller -");
  const WipeOnExit wipe_argument(token_argument);
  if (!parse_subcommand(app, "inspect", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  if (!robot.empty() && !is_valid_robot_name(robot)) {
    throw Failure(ExitCode::kUsage, "inspect: --robot must be a Quay robot name, org+name");
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
    token = token_from_request(token, robot);
  }
  const auto claims = decode_jwt_claims(token);
  if (!claims) {
    throw Failure(ExitCode::kBadRequest,
                  "inspect: the input is not a JWT (three base64url parts joined by dots); pass "
                  "a service-account token, e.g. from kubectl create token");
  }
  const auto inspection = inspect_token(*claims, robot, clock.now());
  streams.out << "token:      sha256 " << short_hash(token) << " (as in the provider's logs)\n"
              << inspection.text;
  streams.out.flush();
  return static_cast<int>(inspection.refusals.empty() ? ExitCode::kOk : ExitCode::kLookupFailed);
}

}  // namespace qcp::diagnostics

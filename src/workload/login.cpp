#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <random>

#include "qcp/core/cli_parse.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/private_file.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stop_signals.hpp"
#include "qcp/quay/credential_formats.hpp"
#include "qcp/quay/option_flags.hpp"
#include "qcp/version.hpp"
#include "qcp/workload/commands.hpp"
#include "qcp/workload/namespace.hpp"
#include "qcp/workload/refresh.hpp"
#include "workload/expiry_alarm.hpp"
#include "workload/workload.hpp"

namespace qcp::workload {
namespace {

constexpr std::size_t kMaxAuthFileBytes = std::size_t{4} << 20;
// Another login holds an auth file's lock for one read, merge and write.

struct LoginRequest {
  workload::WorkloadTarget target;
  std::string token_command;
  std::string authfile;
  std::string format;
  std::string secret_name;
  std::string namespace_name;
  bool refresh = false;
  std::string ready_file;
};

void add_workload_flags(CLI::App& app, LoginRequest& request) {
  app.add_option("--robot", request.target.robot, "The Quay robot to mint a token for: org+name")
      ->type_name("ORG+NAME")
      ->required();
  app.add_option("--registry", request.target.registry,
                 "The registry (and its Quay) as image references name it")
      ->type_name("HOST[:PORT]")
      ->required();
  app.add_option("--quay-host", request.target.quay_host,
                 "The Quay that mints the token, when it is not the registry's own host")
      ->type_name("HOST[:PORT]");
  app.add_option("--token-file", request.target.source.file,
                 "The identity token (JWT), read afresh for every exchange (projected tokens "
                 "rotate)")
      ->type_name("PATH");
  app.add_option("--token-command", request.token_command,
                 "A program whose stdout is the identity token, run without a shell")
      ->type_name("CMD");
}

std::string default_secret_name(const std::string& robot) {
  std::string name = "quay-" + robot;
  for (char& c : name) {
    if (c == '+' || c == '_') {
      c = '-';
    }
  }
  return name;
}

void check_output(LoginRequest& request) {
  if (request.format.empty()) {
    request.format = request.authfile.empty() ? "" : "authfile";
  }
  if (request.format != "authfile" && request.format != "secret" && request.format != "eso") {
    throw Failure(ExitCode::kUsage,
                  "login: give --authfile PATH, or --format secret or --format eso");
  }
  if ((request.format == "authfile") != !request.authfile.empty()) {
    throw Failure(ExitCode::kUsage,
                  "login: --authfile and --format " + request.format + " do not go together");
  }
  if (request.refresh && request.format != "authfile") {
    throw Failure(ExitCode::kUsage, "login: --refresh keeps an --authfile fresh; give one");
  }
  if (!request.ready_file.empty() && !request.refresh) {
    throw Failure(ExitCode::kUsage, "login: --ready-file goes with --refresh");
  }
  if (request.secret_name.empty()) {
    request.secret_name = default_secret_name(request.target.robot);
  }
  if (!is_dns_subdomain(request.secret_name) ||
      (!request.namespace_name.empty() && !is_dns_subdomain(request.namespace_name))) {
    throw Failure(ExitCode::kUsage,
                  "login: --secret-name and --namespace must be Kubernetes names (a-z, 0-9, -, .)");
  }
}

// Other writers of this file (logins for other registries) merge one at a time; the wait for
// them is bounded by --timeout, the one deadline the user sets.
std::string write_authfile(const std::string& authfile, const workload::RobotCredential& credential,
                           std::chrono::milliseconds lock_wait) {
  const std::string path = std::filesystem::absolute(authfile).lexically_normal().string();
  const PrivateFileLock lock(path, "login: --authfile",
                             std::chrono::steady_clock::now() + lock_wait);
  const auto current = read_private_file(path, "login: --authfile", kMaxAuthFileBytes);
  std::string merged;
  try {
    merged = workload::merged_auth_file(current, credential);
  } catch (const Failure& failure) {
    throw Failure(failure.code(), "login: --authfile " + one_line(path) + " " + failure.what());
  }
  const WipeOnExit wipe_merged(merged);
  write_private_file(path, "login: --authfile", merged);
  return path;
}

// The ready file holds when the credential expires (Unix seconds): a probe or a build container
// can wait for it and tell a stale one.
void set_ready(const std::string& path, bool ready, std::chrono::system_clock::time_point until) {
  if (path.empty()) {
    return;
  }
  if (!ready) {
    static_cast<void>(remove_private_file(path));
    return;
  }
  write_private_file(
      path, "login: --ready-file",
      std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch()).count()) +
          "\n");
}

int refresh(const LoginRequest& request, const Options& options, const Environment& env,
            HttpClient& http, const Clock& clock, Log& log) {
  const StopSignals stop;
  std::string stopped_by;
  // A pod's SIGTERM ends an exchange in flight: a stalled Quay must not hold the sidecar until
  // its grace period runs out and it is killed.
  StoppableHttp stoppable(http, [&stop] { return !stop.pending(); });
  std::chrono::system_clock::time_point until;
  std::chrono::steady_clock::time_point valid_until;
  // The ready file goes when what it vouches for expires, whatever the refresh is doing then.
  workload::ExpiryAlarm alarm([&request, &log] {
    if (!request.ready_file.empty() && remove_private_file(request.ready_file)) {
      log.info("the published credential has expired: removed {}", request.ready_file);
    }
  });
  workload::RefreshSteps steps{
      .obtain =
          [&] {
            return workload::obtain_credential(request.target, options, env, stoppable, clock, log);
          },
      .publish =
          [&](const workload::RobotCredential& credential) {
            write_authfile(request.authfile, credential, options.timeout);
            until = credential.expires_at;
            valid_until = credential.valid_until;
          },
      .wait_or_stop =
          [&](std::chrono::milliseconds duration) {
            stopped_by = stop.wait(duration);
            return !stopped_by.empty();
          },
      .uniform = [engine = std::mt19937_64(std::random_device{}()),
                  distribution = std::uniform_real_distribution<double>(
                      0.0, 1.0)]() mutable { return distribution(engine); },
      .note = [&log](const std::string& line) { log.info("{}", one_line(line)); },
      .set_ready =
          [&](bool ready) {
            if (ready) {
              alarm.published(valid_until, [&] { set_ready(request.ready_file, true, until); });
            } else {
              set_ready(request.ready_file, false, until);
            }
          },
  };
  const int code =
      workload::refresh_loop(steps,
                             workload::RefreshSettings{.margin = options.cache_margin,
                                                       .first_retry = std::chrono::seconds{1},
                                                       .max_retry = std::chrono::seconds{60}},
                             clock);
  set_ready(request.ready_file, false, until);
  log.info("stopping on {}; {} keeps the last credential until it expires", stopped_by,
           request.authfile);
  return code;
}

// Where the credential goes: an auth file (kept fresh with --refresh), or stdout as a Secret
// manifest or External Secrets' keys.
void add_output_flags(CLI::App& app, LoginRequest& request) {
  app.add_option("--authfile", request.authfile,
                 "Merge the credential into this auth file (mode 0600, written atomically)")
      ->type_name("PATH");
  app.add_option("--format", request.format,
                 "authfile (with --authfile), secret (a Secret manifest on stdout) or eso")
      ->type_name("FORMAT");
  app.add_option("--secret-name", request.secret_name,
                 "The Secret's name with --format secret (default: quay-ORG-NAME)")
      ->type_name("NAME");
  app.add_option("--namespace", request.namespace_name, "The Secret's namespace")
      ->type_name("NAMESPACE");
  app.add_flag("--refresh", request.refresh,
               "Stay running (a sidecar): write the --authfile again before each token expires "
               "(Quay's lifetime minus --cache-margin, jittered), re-reading the token source; "
               "retry failures with backoff, never removing a valid credential; exit 0 on "
               "SIGTERM");
  app.add_option("--ready-file", request.ready_file,
                 "With --refresh: a file holding the credential's expiry (Unix seconds), there "
                 "while a valid credential is published")
      ->type_name("PATH");
}

// One credential, written where --authfile or --format says, and told to the log by its hash.
void publish_once(const LoginRequest& request, const workload::RobotCredential& credential,
                  const Options& options, Streams& streams, const Clock& clock, Log& log) {
  const auto lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(credential.expires_at - clock.now());
  const std::string summary = "credential for robot " + credential.robot + " on " +
                              credential.registry +
                              " (Quay token sha256=" + short_hash(credential.token) +
                              ", expires in " + format_human(lifetime) + ")";
  if (request.format == "authfile") {
    log.info("wrote the {} to {}", summary,
             write_authfile(request.authfile, credential, options.timeout));
    return;
  }
  std::string output =
      request.format == "secret"
          ? workload::secret_manifest(credential, request.secret_name, request.namespace_name)
          : workload::eso_output(credential);
  const WipeOnExit wipe_output(output);
  streams.out << output;
  streams.out.flush();
  if (!streams.out) {
    throw Failure(ExitCode::kLookupFailed, "login: the credential could not be written to stdout");
  }
  log.info("printed the {} as {}", summary, request.format);
}

}  // namespace

int login_command(std::span<const std::string> args, Streams streams, const Environment& env,
                  HttpClient& http, const Clock& clock) {
  CLI::App app(
      "Exchanges a workload's identity token (a projected service-account token, a CI OIDC "
      "token, a SPIFFE JWT-SVID) for a Quay robot token once, and writes it where tools read it: "
      "an auth file (docker config.json, containers auth.json), a dockerconfigjson Secret "
      "manifest, or External Secrets' QuayAccessToken keys.",
      std::string(kProgramName) + " login");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.get_formatter()->column_width(34);
  LoginRequest request;
  add_workload_flags(app, request);
  add_output_flags(app, request);
  OptionFlags flags(app, OptionFlags::FlagSet::kWorkload);
  if (!parse_subcommand(app, "login", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  request.target.source.file_name = "--token-file";
  request.target.source.command_name = "--token-command";
  if (!request.token_command.empty()) {
    request.target.source.command = split_command(request.token_command, "--token-command");
  }
  workload::check_target(request.target, "login");
  check_output(request);
  const Options options = flags.resolve(env);
  const auto log = make_logger(streams.err, options.log_level);
  if (request.refresh) {
    return refresh(request, options, env, http, clock, *log);
  }

  workload::RobotCredential credential =
      workload::obtain_credential(request.target, options, env, http, clock, *log);
  const WipeOnExit wipe_token(credential.token);
  publish_once(request, credential, options, streams, clock, *log);
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace qcp::workload

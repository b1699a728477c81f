#include "qcp/diagnostics/commands.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <istream>
#include <ostream>

#include "qcp/core/cli_parse.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/text.hpp"
#include "qcp/diagnostics/inspect.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/provider_needs.hpp"
#include "qcp/version.hpp"

namespace qcp::diagnostics {
namespace {

std::string read_stdin(std::istream& in) {
  try {
    return read_request(in, kMaxRequestBytes);
  } catch (const Failure&) {
    throw Failure(ExitCode::kBadRequest, "stdin could not be read or holds more than 1 MiB");
  }
}

// All the files of a config directory together: bounded, as one file is.
constexpr std::size_t kMaxConfigDirectoryBytes = std::size_t{4} << 20;

// dir/name, whether or not dir ends with '/'.
std::string path_in(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.ends_with('/')) {
    path += '/';
  }
  path += name;
  return path;
}

// The kubelet matches the image without tag or digest: "host:8443/team/app:1.2@sha256:..." ->
// "host:8443/team/app".
std::string without_tag(std::string image) {
  image = image.substr(0, image.find('@'));
  const auto slash = image.rfind('/');
  if (const auto colon = image.rfind(':');
      colon != std::string::npos && slash != std::string::npos && colon > slash) {
    image.resize(colon);
  }
  return image;
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
    CredentialProviderRequest request = parse_request(token);
    wipe(token);
    token = request.service_account_token;
    wipe(request.service_account_token);
    if (robot.empty()) {
      if (const auto found = request.service_account_annotations.find(kRobotAnnotation);
          found != request.service_account_annotations.end() &&
          is_valid_robot_name(found->second)) {
        robot = found->second;
      }
    }
    if (token.empty()) {
      throw Failure(ExitCode::kBadRequest, "inspect: the request has no serviceAccountToken");
    }
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

int check_config_command(std::span<const std::string> args, Streams streams,
                         const Environment& env) {
  CLI::App app(
      "Validates a kubelet CredentialProviderConfig (YAML or JSON) by the kubelet's own decoding "
      "and validation rules and by what this provider needs. Prints one line per problem and "
      "exits 1 if there is any; 0 means the kubelet will accept the file.",
      std::string(kProgramName) + " check-config");
  app.set_help_flag("-h,--help", "Print this help and exit");
  std::string file;
  std::string version;
  ConfigCheckSettings settings;
  settings.provider_name = std::string(kProgramName);
  app.add_option("file", file,
                 "The config file, a config directory (read as kubelet 1.34+ reads one), or - "
                 "for stdin")
      ->required()
      ->type_name("FILE|DIR|-");
  app.add_option("--kubelet-version", version,
                 "Check for this kubelet (1.33 has no tokenAttributes.cacheType, 1.34+ requires "
                 "it); default: the version the file suits")
      ->type_name("1.N");
  app.add_option("--provider-name", settings.provider_name,
                 "The providers[].name that runs this binary (its file name in the kubelet's "
                 "--image-credential-provider-bin-dir)")
      ->type_name("NAME")
      ->capture_default_str();
  std::string bin_dir;
  app.add_option("--bin-dir", bin_dir,
                 "The kubelet's --image-credential-provider-bin-dir: check that it holds an "
                 "executable named after every provider")
      ->type_name("DIR");
  app.add_option("--image", settings.images,
                 "An image (e.g. quay.example.com:8443/team/app) this provider must be called for "
                 "(repeatable)")
      ->type_name("IMAGE")
      ->allow_extra_args(false);
  if (!parse_subcommand(app, "check-config", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  if (!version.empty()) {
    settings.kubelet = kubelet_generation(version, "check-config");
  }
  for (auto& image : settings.images) {
    image = without_tag(normalized_image(image));  // "busybox" is docker.io/library/busybox
  }
  if (!bin_dir.empty()) {
    if (!env.is_directory(bin_dir)) {
      throw Failure(ExitCode::kUsage, "check-config: --bin-dir " + bin_dir +
                                          " is not a directory (the kubelet refuses to start)");
    }
    settings.binary_problem = [&env, &bin_dir](const std::string& name) {
      const std::string path = path_in(bin_dir, name);
      if (env.is_executable_file(path)) {
        return std::optional<std::string>();
      }
      return std::optional<std::string>(
          (env.is_readable_file(path)
               ? path + " is not executable: the kubelet refuses to start (permission denied)"
               : "no executable " + path + ": the kubelet refuses to start without it"));
    };
  }
  // A directory is read as the kubelet (1.34+) reads one: its *.json, *.yaml and *.yml files in
  // lexicographic order, merged.
  std::vector<ConfigFile> files;
  std::vector<ConfigFinding> unreadable;  // directory entries the kubelet would fail to read
  std::size_t config_entries = 0;
  if (file == "-") {
    files.push_back({"<stdin>", read_stdin(streams.in)});
  } else if (env.is_directory && env.is_directory(file)) {
    auto names = env.list_directory(file);
    std::sort(names.begin(), names.end());
    std::size_t total = 0;
    for (const auto& entry : names) {
      if (entry.ends_with(".json") || entry.ends_with(".yaml") || entry.ends_with(".yml")) {
        const std::string path = path_in(file, entry);
        ++config_entries;
        try {
          files.push_back({path, env.read_file(path, kMaxRequestBytes)});
        } catch (const Failure& failure) {
          // A dangling symlink, a symlink to a directory, an unreadable file: the kubelet reads
          // it all the same and exits at start.
          unreadable.push_back({.file = path,
                                .line = 0,
                                .path = "",
                                .message = std::string(failure.what()) +
                                           ": the kubelet reads every entry that is not a "
                                           "directory and refuses to start",
                                .warning = false});
          continue;
        }
        total += files.back().text.size();
        if (total > kMaxConfigDirectoryBytes) {
          throw Failure(ExitCode::kUsage,
                        "check-config: the config files in " + file + " hold more than " +
                            std::to_string(kMaxConfigDirectoryBytes >> 20) +
                            " MiB; a kubelet's credential provider config is a few KiB");
        }
      }
    }
    if (config_entries == 0) {
      throw Failure(ExitCode::kUsage, "check-config: no *.json, *.yaml or *.yml file in " + file);
    }
  } else {
    files.push_back({file, env.read_file(file, kMaxRequestBytes)});
  }
  const std::string name = file == "-" ? "<stdin>" : file;

  ConfigReport report = check_provider_config(files, settings);
  report.findings.insert(report.findings.begin(), unreadable.begin(), unreadable.end());
  for (const auto& finding : report.findings) {
    streams.out << one_line(finding.file);
    if (finding.line > 0) {
      streams.out << ':' << finding.line;
    }
    streams.out << ": " << (finding.warning ? "warning: " : "")
                << (finding.path.empty() ? "" : one_line(finding.path) + ": ")
                << one_line(finding.message) << '\n';
  }
  if (report.ok()) {
    const bool for_1_33 = report.kubelet == KubeletGeneration::k1_33;
    streams.out << name << ": OK: " << report.provider_names.size()
                << (report.provider_names.size() == 1 ? " provider" : " providers") << " (";
    for (std::size_t i = 0; i < report.provider_names.size(); ++i) {
      streams.out << (i > 0 ? ", " : "") << one_line(report.provider_names[i]);
    }
    streams.out << ')';
    if (files.size() > 1) {
      streams.out << " from " << files.size() << " files";
    }
    streams.out << ", for "
                << (for_1_33 ? "a 1.33 kubelet with the feature gate "
                               "KubeletServiceAccountTokenForCredentialProviders on"
                             : "1.34+ kubelets")
                << '\n';
  }
  streams.out.flush();
  return static_cast<int>(report.ok() ? ExitCode::kOk : ExitCode::kLookupFailed);
}

}  // namespace qcp::diagnostics

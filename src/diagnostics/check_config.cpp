#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>

#include "diagnostics/stdin_text.hpp"
#include "qcp/core/cli_parse.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/text.hpp"
#include "qcp/diagnostics/commands.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/config_directory.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/quay/policy.hpp"
#include "qcp/quay/provider_needs.hpp"
#include "qcp/version.hpp"

namespace qcp::diagnostics {
namespace {

// All the files of a config directory together: bounded, as one file is.
constexpr std::size_t kMaxConfigDirectoryBytes = std::size_t{4} << 20;

struct CheckConfigRequest {
  std::string file;     // FILE, DIR or -
  std::string version;  // --kubelet-version
  std::string bin_dir;  // --bin-dir
  std::string policy;   // --policy
  ConfigCheckSettings settings;
};

// What the kubelet reads, and the entries of a directory it would fail to read.
struct ConfigInput {
  std::vector<ConfigFile> files;
  std::vector<ConfigFinding> unreadable;
};

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

// The flags; nullopt when --help was answered.
std::optional<CheckConfigRequest> parse_check_config(std::span<const std::string> args,
                                                     std::ostream& out) {
  CLI::App app(
      "Validates a kubelet CredentialProviderConfig (YAML or JSON) by the kubelet's own decoding "
      "and validation rules and by what this provider needs. Prints one line per problem and "
      "exits 1 if there is any; 0 means the kubelet will accept the file.",
      std::string(kProgramName) + " check-config");
  app.set_help_flag("-h,--help", "Print this help and exit");
  CheckConfigRequest request;
  request.settings.provider_name = std::string(kProgramName);
  app.add_option("file", request.file,
                 "The config file, a config directory (read as kubelet 1.34+ reads one), or - "
                 "for stdin")
      ->required()
      ->type_name("FILE|DIR|-");
  app.add_option("--kubelet-version", request.version,
                 "Check for this kubelet (1.33 has no tokenAttributes.cacheType, 1.34+ requires "
                 "it); default: the version the file suits")
      ->type_name("1.N");
  app.add_option("--provider-name", request.settings.provider_name,
                 "The providers[].name that runs this binary (its file name in the kubelet's "
                 "--image-credential-provider-bin-dir)")
      ->type_name("NAME")
      ->capture_default_str();
  app.add_option("--bin-dir", request.bin_dir,
                 "The kubelet's --image-credential-provider-bin-dir: check that it holds an "
                 "executable named after every provider")
      ->type_name("DIR");
  app.add_option("--image", request.settings.images,
                 "An image (e.g. quay.example.com:8443/team/app) this provider must be called for "
                 "(repeatable)")
      ->type_name("IMAGE")
      ->allow_extra_args(false);
  app.add_option("--policy", request.policy,
                 "The provider's credential policy (docs/policy.md): check it, and the config "
                 "against it (its annotation keys, --policy in args)")
      ->type_name("FILE");
  if (!parse_subcommand(app, "check-config", args, out)) {
    return std::nullopt;
  }
  return request;
}

// --bin-dir: every provider's executable must be there, as the kubelet checks at start.
void check_binaries_in(const std::string& bin_dir, const Environment& env,
                       ConfigCheckSettings& settings) {
  if (!env.is_directory(bin_dir)) {
    throw Failure(ExitCode::kUsage, "check-config: --bin-dir " + bin_dir +
                                        " is not a directory (the kubelet refuses to start)");
  }
  settings.binary_problem = [&env, bin_dir](const std::string& name) {
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

// A directory as the kubelet (1.34+) reads one (kube/config_directory), bounded in total.
ConfigInput read_config_directory(const std::string& dir, const Environment& env) {
  ConfigInput input;
  std::size_t total = 0;
  const auto entries = config_directory_entries(env.list_directory(dir));
  for (const auto& entry : entries) {
    const std::string path = path_in(dir, entry);
    try {
      input.files.push_back({path, env.read_file(path, kMaxRequestBytes)});
    } catch (const Failure& failure) {
      // A dangling symlink, a symlink to a directory, an unreadable file: the kubelet reads it
      // all the same and exits at start.
      input.unreadable.push_back({.file = path,
                                  .line = 0,
                                  .path = "",
                                  .message = std::string(failure.what()) +
                                             ": the kubelet reads every entry that is not a "
                                             "directory and refuses to start",
                                  .warning = false});
      continue;
    }
    total += input.files.back().text.size();
    if (total > kMaxConfigDirectoryBytes) {
      throw Failure(ExitCode::kUsage,
                    "check-config: the config files in " + dir + " hold more than " +
                        std::to_string(kMaxConfigDirectoryBytes >> 20) +
                        " MiB; a kubelet's credential provider config is a few KiB");
    }
  }
  if (entries.empty()) {
    throw Failure(ExitCode::kUsage, "check-config: no *.json, *.yaml or *.yml file in " + dir);
  }
  return input;
}

ConfigInput read_config_input(const std::string& file, std::istream& in, const Environment& env) {
  if (file == "-") {
    return {.files = {{"<stdin>", read_stdin(in)}}, .unreadable = {}};
  }
  if (env.is_directory && env.is_directory(file)) {
    return read_config_directory(file, env);
  }
  return {.files = {{file, env.read_file(file, kMaxRequestBytes)}}, .unreadable = {}};
}

void print_findings(const std::vector<ConfigFinding>& findings, std::ostream& out) {
  for (const auto& finding : findings) {
    out << one_line(finding.file);
    if (finding.line > 0) {
      out << ':' << finding.line;
    }
    out << ": " << (finding.warning ? "warning: " : "")
        << (finding.path.empty() ? "" : one_line(finding.path) + ": ") << one_line(finding.message)
        << '\n';
  }
}

// "NAME: OK: 2 providers (a, b) from 3 files, for 1.34+ kubelets"
void print_accepted(const ConfigReport& report, const std::string& name, std::size_t file_count,
                    std::ostream& out) {
  const bool for_1_33 = report.kubelet == KubeletGeneration::k1_33;
  out << name << ": OK: " << report.provider_names.size()
      << (report.provider_names.size() == 1 ? " provider" : " providers") << " (";
  for (std::size_t i = 0; i < report.provider_names.size(); ++i) {
    out << (i > 0 ? ", " : "") << one_line(report.provider_names[i]);
  }
  out << ')';
  if (file_count > 1) {
    out << " from " << file_count << " files";
  }
  out << ", for "
      << (for_1_33 ? "a 1.33 kubelet with the feature gate "
                     "KubeletServiceAccountTokenForCredentialProviders on"
                   : "1.34+ kubelets")
      << '\n';
}

// --policy: parsed as the provider parses it; a mistake is reported as a finding (file:line).
std::optional<Policy> read_policy(const std::string& path, const Environment& env,
                                  std::vector<std::string>& problems) {
  const std::string text = env.read_file(path, kMaxPolicyBytes);
  try {
    return parse_policy(text, path);
  } catch (const Failure& failure) {
    problems.emplace_back(failure.what());
  }
  return std::nullopt;
}

// "POLICY: OK: 3 rules, robot annotation K, host annotation H"
void print_policy_accepted(const Policy& policy, std::ostream& out) {
  out << one_line(policy.path) << ": OK: " << policy.rules.size()
      << (policy.rules.size() == 1 ? " rule" : " rules") << ", robot annotation "
      << one_line(policy.robot_annotation) << ", host annotation "
      << one_line(policy.host_annotation) << '\n';
}

}  // namespace

int check_config_command(std::span<const std::string> args, Streams streams,
                         const Environment& env) {
  auto request = parse_check_config(args, streams.out);
  if (!request) {
    return static_cast<int>(ExitCode::kOk);
  }
  auto& settings = request->settings;
  if (!request->version.empty()) {
    settings.kubelet = kubelet_generation(request->version, "check-config");
  }
  for (auto& image : settings.images) {
    image = without_tag(normalized_image(image));  // "busybox" is docker.io/library/busybox
  }
  if (!request->bin_dir.empty()) {
    check_binaries_in(request->bin_dir, env, settings);
  }
  std::vector<std::string> policy_problems;
  const std::optional<Policy> policy =
      request->policy.empty() ? std::nullopt : read_policy(request->policy, env, policy_problems);
  const ConfigInput input = read_config_input(request->file, streams.in, env);
  ConfigReport report = check_provider_config(input.files, settings, policy ? &*policy : nullptr);
  report.findings.insert(report.findings.begin(), input.unreadable.begin(), input.unreadable.end());
  for (const auto& problem : policy_problems) {
    streams.out << one_line(problem) << '\n';
  }
  print_findings(report.findings, streams.out);
  if (report.ok()) {
    print_accepted(report, request->file == "-" ? "<stdin>" : request->file, input.files.size(),
                   streams.out);
  }
  if (policy) {
    print_policy_accepted(*policy, streams.out);
  }
  streams.out.flush();
  const bool ok = report.ok() && policy_problems.empty();
  return static_cast<int>(ok ? ExitCode::kOk : ExitCode::kLookupFailed);
}

}  // namespace qcp::diagnostics

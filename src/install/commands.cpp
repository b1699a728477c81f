#include "qcp/install/commands.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>

#include "install/node_options.hpp"
#include "qcp/core/cli_parse.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stop_signals.hpp"
#include "qcp/install/failure_record.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/kubelet_restart.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/node.hpp"
#include "qcp/net/curl_http.hpp"
#include "qcp/version.hpp"

namespace qcp::install {
namespace {

// Where the running program's own bytes are: what install copies onto the node.
constexpr const char* kOwnExecutable = "/proc/self/exe";
// A release is ~6 MiB; a sanitizer build ~70 MiB. The bound only keeps memory finite.
constexpr std::size_t kMaxExecutableBytes = std::size_t{256} << 20;

// --watch's bounds: often enough to matter, seldom enough to cost nothing.
constexpr auto kMinWatch = std::chrono::seconds{1};
constexpr auto kMaxWatch = std::chrono::hours{24};
// One GET of one Node from inside the cluster.
constexpr std::chrono::milliseconds kNodeReadTimeout{20'000};

std::chrono::seconds watch_interval(const std::string& text) {
  const auto parsed = parse_go_duration(text);
  if (!parsed || *parsed < kMinWatch || *parsed > kMaxWatch) {
    throw Failure(ExitCode::kUsage, "install: --watch must be a duration from 1s to 24h, e.g. 5m");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

// The kubelet's version as its Node object reports it: nothing executed, no namespace switched.
std::function<KubeletGeneration()> ask_node_object(const std::string& node_name,
                                                   const Environment& env) {
  if (!is_dns_subdomain(node_name)) {
    throw Failure(ExitCode::kUsage, "install: --node-name " + one_line(node_name) +
                                        " is not a Kubernetes node name (a DNS-1123 subdomain)");
  }
  return [node_name, &env] {
    const auto api = kube::in_cluster_api_server(env, "install --node-name");
    CurlHttpClient http;
    return kubelet_generation(kube::node_kubelet_version(http, api, node_name, kNodeReadTimeout),
                              "Node " + node_name + "'s kubeletVersion");
  };
}

std::function<KubeletGeneration()> ask_running_kubelet(const std::string& host_root) {
  return [host_root] {
    const RootedFiles node_files(host_root);
    install::HostNodeCommands node(host_root);
    return kubelet_generation(install::running_kubelet_version(node_files, node),
                              "the running kubelet");
  };
}

int print(const install::Outcome& outcome, std::ostream& out) {
  for (const auto& line : outcome.report) {
    out << one_line(line) << '\n';
  }
  out.flush();
  return static_cast<int>(ExitCode::kOk);
}

// install's flags, as given.
struct InstallFlags {
  NodePaths paths;
  InstallRequest request;
  RestartOptions restart;
  std::string version;
  std::string node_name;
  std::string failure_record;
  std::string watch;
  std::string static_credentials_dir;
  std::vector<std::string> static_match_images;
  std::string policy;
  std::string policy_source;
};

void add_install_options(CLI::App& app, InstallFlags& flags) {
  add_node_paths(app, flags.paths);
  app.add_option("--match-image", flags.request.provider.match_images,
                 "matchImages entries: the Quay registry's HOST[:PORT] as pods name it, '*' "
                 "globbing a host label (repeatable, or a comma-separated list)")
      ->type_name("HOST[:PORT][,...]")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--kubelet-version", flags.version,
                 "The node's kubelet (1.33 and 1.34+ need different entries); default: as the "
                 "config's other providers show, else as --node-name's Node object reports, "
                 "else as the running kubelet tells (a root process in the node's mount "
                 "namespace whose executable no other user can change); empty means the same")
      ->type_name("1.N");
  app.add_option("--node-name", flags.node_name,
                 "This node's name (the DaemonSet passes spec.nodeName): the kubelet version is "
                 "read from its Node object's status.nodeInfo.kubeletVersion, with this pod's "
                 "service account (get nodes), instead of asking the running kubelet; empty: "
                 "not used")
      ->type_name("NAME");
  app.add_option("--audience", flags.request.provider.audience,
                 "The service-account token audience the kubelet requests for this provider")
      ->type_name("AUDIENCE")
      ->capture_default_str();
  app.add_option("--policy", flags.policy,
                 "The node's credential policy (docs/policy.md), an absolute node path: passed "
                 "to the provider as --policy, its annotation keys listed in tokenAttributes "
                 "(the robot key optional when a rule gives a defaultRobot); read and checked "
                 "as the provider will read it, root's and in a directory only root may change")
      ->type_name("PATH");
  app.add_option("--policy-source", flags.policy_source,
                 "A credential policy file of this container's (the DaemonSet mounts its "
                 "ConfigMap): written to the node beside the kubelet's config as "
                 "quay-credential-provider-policy.yaml (root's, 0644) and used as --policy; "
                 "read again at each --watch pass, so an edit reaches every node; uninstall "
                 "removes it")
      ->type_name("FILE");
  app.add_option("--static-credentials-dir", flags.static_credentials_dir,
                 "Also install the binary as static-credential-provider, with an entry that "
                 "serves registries' fixed credentials from this node directory "
                 "(docs/policy.md); uninstall removes both")
      ->type_name("DIR");
  app.add_option("--static-match-image", flags.static_match_images,
                 "With --static-credentials-dir: the static provider's matchImages "
                 "(repeatable, or a comma-separated list)")
      ->type_name("HOST[:PORT][,...]")
      ->delimiter(',')
      ->allow_extra_args(false);
  add_restart_options(app, flags.restart);
  app.add_option("--failure-record", flags.failure_record,
                 "With --restart-kubelet: a file (of this container's, e.g. an emptyDir) where an "
                 "install the kubelet did not come up with is remembered, so that neither "
                 "--watch nor a restarted container tries it again; delete it to retry")
      ->type_name("FILE");
  app.add_option("--watch", flags.watch,
                 "Stay running and install again every INTERVAL (e.g. 5m), so a node whose files "
                 "were reset gets them back; quiet while nothing changes, ends on SIGTERM")
      ->type_name("INTERVAL");
}

// The flags; nullopt when --help was answered.
std::optional<InstallFlags> parse_install(std::span<const std::string> args, std::ostream& out) {
  CLI::App app(
      "Installs this binary into the kubelet's credential-provider bin dir (atomically, verified) "
      "and its provider entry into the kubelet's config (a file, merged with the providers "
      "already there, or a file of its own in a config directory), after checking that the "
      "kubelet would accept the result. A second identical install changes nothing; uninstall "
      "puts everything back.",
      std::string(kProgramName) + " install");
  app.set_help_flag("-h,--help", "Print this help and exit");
  InstallFlags flags;
  add_install_options(app, flags);
  if (!parse_subcommand(app, "install", args, out)) {
    return std::nullopt;
  }
  return flags;
}

// The request the flags describe, checked before the node is touched.
InstallRequest install_request(InstallFlags& flags, const Environment& env) {
  InstallRequest request = std::move(flags.request);
  request.profile = resolve_profile(flags.paths, "install");
  check_node_paths(flags.paths, "install");
  request.restart_kubelet = restarter(flags.restart, request.profile, flags.paths, "install");
  check_provider_flags(request.provider);
  if (!flags.version.empty()) {
    request.kubelet = kubelet_generation(flags.version, "install");
  }
  if (flags.node_name.empty()) {
    request.ask_kubelet = ask_running_kubelet(flags.paths.host_root);
  } else {
    request.ask_kubelet = ask_node_object(flags.node_name, env);
    request.ask_kubelet_source = "Node " + flags.node_name + "'s status";
  }
  request.bin_dir = flags.paths.bin_dir;
  request.config = flags.paths.config;
  request.provider.name = std::string(kProgramName);
  request.static_provider =
      static_provider(flags.static_credentials_dir, flags.static_match_images);
  if (!flags.policy.empty()) {
    if (!flags.policy_source.empty()) {
      throw Failure(ExitCode::kUsage,
                    "install: --policy names the node's own policy, --policy-source one install "
                    "writes: give one of them");
    }
    check_node_path(flags.policy, "--policy");
    request.policy = flags.policy;
  }
  read_policy_source(flags.policy_source, env, request);
  return request;
}

// --watch: install again every interval until SIGTERM; a failure is reported and tried again.
int keep_installing(const FailureRecord& attempts, RootedFiles& files, InstallRequest& request,
                    const Environment& env, std::chrono::seconds interval, const StopSignals& stop,
                    Streams streams) {
  for (;;) {
    if (const std::string signal = stop.wait(interval); !signal.empty()) {
      streams.out << "stopping on " << signal << "; the node keeps what is installed\n";
      streams.out.flush();
      return static_cast<int>(ExitCode::kOk);
    }
    try {
      read_policy_source(request.policy_source, env, request);
      if (const auto outcome = attempts.install(files, request); outcome.changed) {
        print(outcome, streams.out);
      }
    } catch (const Failure& failure) {
      streams.err << kProgramName << ": " << one_line(failure.what()) << "; trying again in "
                  << format_human(interval) << '\n';
      streams.err.flush();
    }
  }
}

}  // namespace

int install_command(std::span<const std::string> args, Streams streams, const Environment& env) {
  auto flags = parse_install(args, streams.out);
  if (!flags) {
    return static_cast<int>(ExitCode::kOk);
  }
  InstallRequest request = install_request(*flags, env);
  const auto interval =
      flags->watch.empty() ? std::chrono::seconds{0} : watch_interval(flags->watch);
  request.binary = env.read_file(kOwnExecutable, kMaxExecutableBytes);
  RootedFiles files(flags->paths.host_root);
  std::string arguments;
  for (const auto& arg : args) {
    arguments += arg + '\0';
  }
  const FailureRecord attempts(flags->failure_record,
                               sha256_hex(request.binary) + " " + sha256_hex(arguments));
  // SIGTERM waits until the node's files are consistent again: a restart the kubelet does not
  // survive is rolled back and restarted before the process ends (the grace period covers it).
  const StopSignals stop;
  // The first install must succeed (a pod that cannot install fails where operators look);
  // later ones report and try again.
  print(attempts.install(files, request), streams.out);
  if (interval.count() == 0) {
    return static_cast<int>(ExitCode::kOk);
  }
  return keep_installing(attempts, files, request, env, interval, stop, streams);
}

int uninstall_command(std::span<const std::string> args, Streams streams, const Environment&) {
  CLI::App app(
      "Undoes install: restores each file it replaced (a config changed since then only loses "
      "this provider's entry), removes what it created, and leaves everything else as it is.",
      std::string(kProgramName) + " uninstall");
  app.set_help_flag("-h,--help", "Print this help and exit");
  NodePaths paths;
  add_node_paths(app, paths);
  RestartOptions restart;
  add_restart_options(app, restart);
  if (!parse_subcommand(app, "uninstall", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  const auto profile = resolve_profile(paths, "uninstall");
  check_node_paths(paths, "uninstall");
  RootedFiles files(paths.host_root);
  const StopSignals stop;  // as for install: SIGTERM waits for the node to be consistent
  return print(install::uninstall(
                   files, {.bin_dir = paths.bin_dir,
                           .config = paths.config,
                           .provider_name = std::string(kProgramName),
                           .restart_kubelet = restarter(restart, profile, paths, "uninstall")}),
               streams.out);
}

}  // namespace qcp::install

#include "install/commands.hpp"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <ostream>
#include <tuple>

#include "core/cli_parse.hpp"
#include "diagnostics/commands.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/install/failure_record.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/kubelet_restart.hpp"
#include "qcp/version.hpp"

namespace qcp {
namespace {

// Where the running program's own bytes are: what install copies onto the node.
constexpr const char* kOwnExecutable = "/proc/self/exe";
// A release is ~6 MiB; a sanitizer build ~70 MiB. The bound only keeps memory finite.
constexpr std::size_t kMaxExecutableBytes = std::size_t{256} << 20;

struct NodePaths {
  std::string host_root = "/";
  std::string bin_dir;
  std::string config;
  std::string profile = "generic";
};

// --restart-kubelet and how: the same for install and uninstall.
struct RestartOptions {
  bool restart = false;
  std::string unit;
  std::string healthz = "http://127.0.0.1:10248/healthz";
  std::string timeout = "2m";
};

void add_node_paths(CLI::App& app, NodePaths& paths) {
  app.add_option("--profile", paths.profile,
                 "The kind of node: kubeadm, kind or k3s give --bin-dir and --config defaults "
                 "and get the kubelet's flags written where they read them; generic only "
                 "reports the flags")
      ->type_name("kubeadm|kind|k3s|generic")
      ->capture_default_str();
  app.add_option("--host-root", paths.host_root,
                 "Where the node's file system is seen (/host in the DaemonSet); every other "
                 "path is a path on the node")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--bin-dir", paths.bin_dir,
                 "The kubelet's --image-credential-provider-bin-dir (default: the profile's)")
      ->type_name("PATH");
  app.add_option("--config", paths.config,
                 "The kubelet's --image-credential-provider-config: a file, or (1.34+) a "
                 "directory (default: the profile's)")
      ->type_name("PATH");
}

void add_restart_options(CLI::App& app, RestartOptions& options) {
  app.add_flag("--restart-kubelet", options.restart,
               "After a change, restart the kubelet through the node's systemd and wait for its "
               "healthz; if it does not get healthy, put everything back and restart it again");
  app.add_option("--kubelet-unit", options.unit,
                 "The kubelet's systemd unit (default: kubelet; k3s: k3s or k3s-agent, as the "
                 "node has)")
      ->type_name("UNIT");
  app.add_option("--kubelet-healthz", options.healthz, "Where the kubelet answers health checks")
      ->type_name("URL")
      ->capture_default_str();
  app.add_option("--restart-timeout", options.timeout,
                 "How long the restart and the first healthy answer may take")
      ->type_name("DURATION")
      ->capture_default_str();
}

// The profile, and the node paths it defaults.
install::Profile resolve_profile(NodePaths& paths, std::string_view command) {
  const auto profile = install::parse_profile(paths.profile);
  if (!profile) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --profile must be kubeadm, kind, k3s or generic");
  }
  const auto defaults = install::profile_defaults(*profile);
  for (const auto& [flag, path, fallback] :
       {std::tuple{"--bin-dir", &paths.bin_dir, defaults.bin_dir},
        std::tuple{"--config", &paths.config, defaults.config}}) {
    if (path->empty() && fallback.empty()) {
      throw Failure(ExitCode::kUsage,
                    std::string(command) + ": " + flag + " is required with --profile generic");
    }
    if (path->empty()) {
      *path = fallback;
    }
  }
  return *profile;
}

std::string kubelet_unit(const RestartOptions& options, install::Profile profile,
                         const install::HostFiles& files) {
  if (!options.unit.empty()) {
    return options.unit;
  }
  if (profile != install::Profile::kK3s) {
    return "kubelet";
  }
  // The k3s installer names the unit after the role it installs.
  for (const char* directory : {"/etc/systemd/system", "/usr/lib/systemd/system"}) {
    if (files.status(install::join_path(directory, "k3s-agent.service")).kind ==
        install::FileKind::kRegular) {
      return "k3s-agent";
    }
  }
  return "k3s";
}

// The restart step install and uninstall run after a change, or none.
std::function<std::string()> restarter(const RestartOptions& options, install::Profile profile,
                                       const NodePaths& paths, std::string_view command) {
  if (!options.restart) {
    return {};
  }
  const auto healthz = install::parse_healthz_url(options.healthz);
  if (!healthz) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --kubelet-healthz must be http://IPv4:PORT/PATH");
  }
  const auto timeout = parse_go_duration(options.timeout);
  if (!timeout || *timeout < std::chrono::seconds{5} || *timeout > std::chrono::minutes{30}) {
    throw Failure(ExitCode::kUsage,
                  std::string(command) + ": --restart-timeout must be from 5s to 30m");
  }
  const install::RootedFiles files(paths.host_root);
  if (options.unit.find_first_of(" \t/") != std::string::npos ||
      one_line(options.unit) != options.unit || options.unit.starts_with('-')) {
    throw Failure(ExitCode::kUsage, std::string(command) + ": --kubelet-unit must be a unit name");
  }
  install::RestartSettings settings{
      .unit = kubelet_unit(options, profile, files),
      .healthz = *healthz,
      .timeout = std::chrono::duration_cast<std::chrono::seconds>(*timeout)};
  install::HostNodeCommands(paths.host_root).check_reachable("systemctl");
  return [settings, host_root = paths.host_root] {
    install::HostNodeCommands node(host_root);
    return install::restart_kubelet(node, settings);
  };
}

// Node paths are absolute and plain: what the kubelet's flags hold.
void check_node_paths(const NodePaths& paths, std::string_view command) {
  for (const auto& [flag, path] :
       {std::pair{"--bin-dir", &paths.bin_dir}, std::pair{"--config", &paths.config}}) {
    if (!path->starts_with('/') || *path == "/" || path->find('\0') != std::string::npos ||
        one_line(*path) != *path) {
      throw Failure(ExitCode::kUsage, std::string(command) + ": " + flag +
                                          " must be an absolute path on the node, not /");
    }
  }
}

// --watch's bounds: often enough to matter, seldom enough to cost nothing.
constexpr auto kMinWatch = std::chrono::seconds{1};
constexpr auto kMaxWatch = std::chrono::hours{24};

std::chrono::seconds watch_interval(const std::string& text) {
  const auto parsed = parse_go_duration(text);
  if (!parsed || *parsed < kMinWatch || *parsed > kMaxWatch) {
    throw Failure(ExitCode::kUsage, "install: --watch must be a duration from 1s to 24h, e.g. 5m");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

// Waits `interval` for SIGTERM or SIGINT (blocked, so they wait here instead of killing the
// process mid-write); returns the signal's name, or "" when the time ran out.
std::string wait_for_stop(const sigset_t& stop, std::chrono::seconds interval) {
  timespec timeout{.tv_sec = static_cast<time_t>(interval.count()), .tv_nsec = 0};
  const int signal = ::sigtimedwait(&stop, nullptr, &timeout);
  if (signal == SIGTERM) {
    return "SIGTERM";
  }
  return signal == SIGINT ? "SIGINT" : "";
}

int print(const install::Outcome& outcome, std::ostream& out) {
  for (const auto& line : outcome.report) {
    out << one_line(line) << '\n';
  }
  out.flush();
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace

int install_command(std::span<const std::string> args, Streams streams, const Environment& env) {
  CLI::App app(
      "Installs this binary into the kubelet's credential-provider bin dir (atomically, verified) "
      "and its provider entry into the kubelet's config (a file, merged with the providers "
      "already there, or a file of its own in a config directory), after checking that the "
      "kubelet would accept the result. A second identical install changes nothing; uninstall "
      "puts everything back.",
      std::string(kProgramName) + " install");
  app.set_help_flag("-h,--help", "Print this help and exit");
  NodePaths paths;
  add_node_paths(app, paths);
  install::InstallRequest request;
  app.add_option("--match-image", request.provider.match_images,
                 "A matchImages entry: the Quay registry's HOST[:PORT] as pods name it "
                 "(repeatable)")
      ->type_name("HOST[:PORT]")
      ->required()
      ->allow_extra_args(false);
  std::string version;
  app.add_option("--kubelet-version", version,
                 "The node's kubelet (1.33 and 1.34+ need different entries); default: as the "
                 "config's other providers show")
      ->type_name("1.N");
  app.add_option("--audience", request.provider.audience,
                 "The service-account token audience the kubelet requests for this provider")
      ->type_name("AUDIENCE")
      ->capture_default_str();
  RestartOptions restart;
  add_restart_options(app, restart);
  std::string failure_record;
  app.add_option("--failure-record", failure_record,
                 "With --restart-kubelet: a file (of this container's, e.g. an emptyDir) where an "
                 "install the kubelet did not come up with is remembered, so that neither "
                 "--watch nor a restarted container tries it again; delete it to retry")
      ->type_name("FILE");
  std::string watch;
  app.add_option("--watch", watch,
                 "Stay running and install again every INTERVAL (e.g. 5m), so a node whose files "
                 "were reset gets them back; quiet while nothing changes, ends on SIGTERM")
      ->type_name("INTERVAL");
  if (!parse_subcommand(app, "install", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  request.profile = resolve_profile(paths, "install");
  check_node_paths(paths, "install");
  request.restart_kubelet = restarter(restart, request.profile, paths, "install");
  if (request.provider.audience.empty() ||
      one_line(request.provider.audience) != request.provider.audience) {
    throw Failure(ExitCode::kUsage, "install: --audience must be a printable, non-empty string");
  }
  if (!version.empty()) {
    request.kubelet = kubelet_generation(version, "install");
  }
  request.ask_kubelet = [host_root = paths.host_root] {
    const install::RootedFiles node_files(host_root);
    install::HostNodeCommands node(host_root);
    return kubelet_generation(install::running_kubelet_version(node_files, node),
                              "the running kubelet");
  };
  request.bin_dir = paths.bin_dir;
  request.config = paths.config;
  request.provider.name = std::string(kProgramName);
  const auto interval = watch.empty() ? std::chrono::seconds{0} : watch_interval(watch);
  request.binary = env.read_file(kOwnExecutable, kMaxExecutableBytes);
  install::RootedFiles files(paths.host_root);
  std::string arguments;
  for (const auto& arg : args) {
    arguments += arg + '\0';
  }
  const install::FailureRecord attempts(failure_record,
                                        sha256_hex(request.binary) + " " + sha256_hex(arguments));
  if (interval.count() == 0) {
    return print(attempts.install(files, request), streams.out);
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  // The first install must succeed (a pod that cannot install fails where operators look);
  // later ones report and try again.
  print(attempts.install(files, request), streams.out);
  for (;;) {
    if (const std::string signal = wait_for_stop(stop, interval); !signal.empty()) {
      streams.out << "stopping on " << signal << "; the node keeps what is installed\n";
      streams.out.flush();
      return static_cast<int>(ExitCode::kOk);
    }
    try {
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
  install::RootedFiles files(paths.host_root);
  return print(install::uninstall(
                   files, {.bin_dir = paths.bin_dir,
                           .config = paths.config,
                           .provider_name = std::string(kProgramName),
                           .restart_kubelet = restarter(restart, profile, paths, "uninstall")}),
               streams.out);
}

}  // namespace qcp

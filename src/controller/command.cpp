#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>

#include "controller/command_flags.hpp"
#include "qcp/controller/commands.hpp"
#include "qcp/controller/controller.hpp"
#include "qcp/controller/endpoint_server.hpp"
#include "qcp/controller/leader.hpp"
#include "qcp/core/cli_parse.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stop_signals.hpp"
#include "qcp/kube/api_server.hpp"
#include "qcp/kube/kubeconfig.hpp"
#include "qcp/quay/exchange_settings.hpp"
#include "qcp/quay/option_flags.hpp"
#include "qcp/version.hpp"

namespace qcp::controller {
namespace {

// How long a stopping controller waits for work in flight before it exits anyway (the Lease is
// released first, so nothing more is written; what was half done the next leader finishes).
constexpr std::chrono::seconds kStopGrace{5};

// --kubeconfig, else KUBECONFIG (one file), else the pod's own account, as controller-runtime
// looks.
ApiServer api_server_for(const ControllerFlags& flags, const Environment& env) {
  std::string path = flags.kubeconfig;
  if (path.empty()) {
    path = env.get("KUBECONFIG").value_or("");
    if (path.find(':') != std::string::npos) {
      throw usage("KUBECONFIG names several files; give the one to use with --kubeconfig");
    }
  }
  if (!path.empty()) {
    return load_kubeconfig(env, path, flags.context);
  }
  return in_cluster_api_server(env, "controller (in-cluster; or give --kubeconfig)");
}

// Where the Lease lives: the flag, else POD_NAMESPACE (the downward API), else the namespace
// file the kubelet mounts beside the pod's token.
std::string lease_namespace_for(const ControllerFlags& flags, const Environment& env) {
  if (!flags.lease_namespace.empty()) {
    return flags.lease_namespace;
  }
  if (auto from_pod = env.get("POD_NAMESPACE"); from_pod && is_namespace_name(*from_pod)) {
    return *from_pod;
  }
  const std::string file = std::string(kServiceAccountDirectory) + "/namespace";
  if (env.is_readable_file(file)) {
    std::string name = env.read_file(file, 64);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) {
      name.pop_back();
    }
    if (is_namespace_name(name)) {
      return name;
    }
  }
  throw usage("--leader-elect needs the Lease's namespace: give --leader-election-namespace");
}

// This replica, as Events and the Lease name it: the pod (POD_NAME, else the host name).
std::string instance_name(const Environment& env) {
  if (auto pod = env.get("POD_NAME"); pod && is_dns_subdomain(*pod)) {
    return *pod;
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0 && is_dns_subdomain(host.data())) {
    return host.data();
  }
  return "quay-credential-provider";
}

std::string random_suffix() {
  std::mt19937_64 engine{std::random_device{}()};
  return fmt::format("{:08x}", static_cast<std::uint32_t>(engine()));
}

ControllerSettings settings_for(const ControllerFlags& flags, const Options& options,
                                const Environment& env, Log& log) {
  ControllerSettings settings;
  settings.provision.quay_host = flags.quay_host;
  settings.provision.registry = flags.registry;
  settings.provision.allowed_hosts = options.allowed_hosts;
  settings.provision.audience = flags.audience;
  if (!options.policy_file.empty()) {  // read now: a mistake stops the controller at once
    settings.provision.policy = std::make_shared<PolicyFile>(env, options.policy_file);
  }
  settings.exchange = exchange_settings(options, env, {}, log);
  settings.renewal.renew_before = renew_before_of(flags);
  settings.namespaces = flags.namespaces;
  settings.workers = flags.workers;
  settings.evict = !flags.no_evict;
  settings.verify_only = flags.verify_only;
  settings.verify.interval = verify_interval_of(flags);
  settings.verify.image = flags.verify_image;
  settings.instance = instance_name(env);
  return settings;
}

// /healthz: the loops run (no worker hung in one reconcile). /readyz: every informer has listed,
// and a standby (leader election on, not leading) still hears from the API server: it is ready
// to take over.
std::unique_ptr<EndpointServer> probe_server(const ControllerFlags& flags,
                                             const Controller& controller,
                                             const std::function<bool()>& leading, Log& log) {
  if (flags.health_address == "0") {
    return nullptr;
  }
  const bool elected = flags.leader_elect;
  auto server = std::make_unique<EndpointServer>(
      "--health-probe-bind-address", flags.health_address,
      EndpointRoutes{{"/healthz", [&controller] { return probe_reply(controller.stuck_worker()); }},
                     {"/readyz", [&controller, &leading, elected] {
                        if (!controller.synced()) {
                          return probe_reply("not every informer has listed yet");
                        }
                        const std::string problem = controller.watch_problem();
                        return probe_reply(!elected || leading() || problem.empty()
                                               ? std::string()
                                               : "standing by, and " + problem);
                      }}});
  log.info("health probes on port {}: /healthz, /readyz", server->port());
  return server;
}

std::unique_ptr<EndpointServer> metrics_server(const ControllerFlags& flags,
                                               const Controller& controller,
                                               const std::function<bool()>& leading, Log& log) {
  if (flags.metrics_address == "0") {
    return nullptr;
  }
  auto server = std::make_unique<EndpointServer>(
      "--metrics-bind-address", flags.metrics_address,
      EndpointRoutes{
          {"/metrics", [&controller, &leading] {
             PrometheusText out;
             out.family("quay_credential_provider_build_info", "gauge",
                        "The running version: always 1.");
             out.sample("quay_credential_provider_build_info", 1, {{"version", kVersion}});
             out.family("quay_credential_provider_leader", "gauge",
                        "1 while this replica writes (leads, or runs unelected).");
             out.sample("quay_credential_provider_leader", leading() ? 1 : 0);
             controller.write_metrics(out);
             if (const auto stats = read_process_stats()) {
               write_process_metrics(out, *stats);
             }
             return EndpointReply{.status = 200,
                                  .content_type = std::string(kMetricsContentType),
                                  .body = out.text()};
           }}});
  log.info("metrics on port {}: /metrics", server->port());
  return server;
}

// Runs until SIGTERM or SIGINT; then stops the Lease first (released: nothing more is written)
// and gives work in flight kStopGrace.
int run_until_stopped(ApiClient& api, ApiClient& lease_api, HttpClient& http,
                      const ControllerSettings& settings, const ControllerFlags& flags,
                      const Environment& env, const Clock& clock, Log& log,
                      const StopSignals& signals) {
  StopFlag stop;
  std::optional<LeaderElector> elector;
  if (flags.leader_elect) {
    elector.emplace(lease_api,
                    LeaseSettings{.namespace_name = lease_namespace_for(flags, env),
                                  .name = flags.lease_name,
                                  .identity = settings.instance + "_" + random_suffix()},
                    clock, log);
    api.fence_writes([&] { return elector->leading(); });
  }
  const std::function<bool()> leading = [&] { return !elector || elector->leading(); };
  Controller controller(api, http, settings, clock, log);
  auto health = probe_server(flags, controller, leading, log);
  auto metrics = metrics_server(flags, controller, leading, log);
  std::promise<void> finished;
  auto done = finished.get_future();
  std::jthread election;
  if (elector) {
    election = std::jthread([&] { elector->run(stop); });
  }
  std::vector<std::jthread> endpoints;
  for (auto* server : {health.get(), metrics.get()}) {
    if (server != nullptr) {
      endpoints.emplace_back([&stop, server] { server->run(stop); });
    }
  }
  std::jthread work([&] {
    controller.run(stop, leading);
    finished.set_value();
  });
  std::string signal;
  while ((signal = signals.wait(std::chrono::hours{1})).empty()) {
  }
  log.info("stopping on {}", signal);
  stop.request();
  if (election.joinable()) {
    election.join();  // the Lease released before anything else
  }
  if (done.wait_for(kStopGrace) != std::future_status::ready) {
    log.warn("stopped with work in flight after {}; the next leader finishes it",
             format_human(kStopGrace));
    std::_Exit(static_cast<int>(ExitCode::kOk));
  }
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace

int controller_command(std::span<const std::string> args, Streams streams, const Environment& env,
                       HttpClient& http, const Clock& clock) {
  CLI::App app(
      "Provisions a kubernetes.io/dockerconfigjson pull Secret for every ServiceAccount "
      "annotated quay.io/federated-robot-account: a TokenRequest for it, the federation exchange "
      "at Quay, the Secret (owned by the ServiceAccount) among its imagePullSecrets, renewed "
      "before the token expires. For clusters whose kubelets cannot run the credential plugin.",
      std::string(kProgramName) + " controller");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.get_formatter()->column_width(34);
  ControllerFlags flags;
  add_flags(app, flags);
  OptionFlags options_flags(app, OptionFlags::FlagSet::kController);
  if (!parse_subcommand(app, "controller", args, streams.out)) {
    return static_cast<int>(ExitCode::kOk);
  }
  check(flags);
  const Options options = options_flags.resolve(env);
  const auto log = make_logger(streams.err, options.log_level);
  const ControllerSettings settings = settings_for(flags, options, env, *log);
  const ApiServer server = api_server_for(flags, env);
  const StopSignals signals;  // blocked before any thread starts: every thread inherits it
  ApiClient api(http, server, env, clock, "controller");
  ApiClient lease_api(http, server, env, clock, "controller: leader election");
  log->info("{} controller: Quay {}, {}, leader election {}", kProgramName, flags.quay_host,
            flags.namespaces.empty()
                ? std::string("every namespace")
                : fmt::format("namespaces {}", fmt::join(flags.namespaces, ", ")),
            flags.leader_elect ? "on" : "off");
  return run_until_stopped(api, lease_api, http, settings, flags, env, clock, *log, signals);
}

}  // namespace qcp::controller

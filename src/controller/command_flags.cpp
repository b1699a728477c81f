#include "controller/command_flags.hpp"

#include <algorithm>

#include "qcp/controller/endpoint_server.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::controller {

void add_flags(CLI::App& app, ControllerFlags& flags) {
  app.add_option("--quay-host", flags.quay_host,
                 "The Quay (and registry) HOST[:PORT] tokens are exchanged at and Secrets name")
      ->type_name("HOST[:PORT]");
  app.add_option("--registry", flags.registry,
                 "The registry HOST[:PORT] image references name, when it is not --quay-host")
      ->type_name("HOST[:PORT]");
  app.add_option("--audience", flags.audience,
                 "The audience of the service-account tokens requested (Quay's binding expects it)")
      ->capture_default_str();
  app.add_option("--namespace", flags.namespaces,
                 "Watch only this namespace (repeatable; default: every namespace)")
      ->type_name("NAMESPACE")
      ->allow_extra_args(false);
  app.add_option("--renew-before", flags.renew_before,
                 "Renew a Secret this long before its token expires (at the latest at half its "
                 "life; jittered)")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--workers", flags.workers,
                 "ServiceAccounts provisioned at once: the bound on concurrent exchanges (1-64)")
      ->capture_default_str();
  app.add_flag("--no-evict", flags.no_evict,
               "Leave pods created before their pull Secret (stuck in ImagePullBackOff) alone "
               "instead of evicting them for their controller to recreate");
  app.add_flag("--verify-only", flags.verify_only,
               "Write no Secret: for clusters whose kubelets run the plugin, walk each annotated "
               "ServiceAccount's federation (TokenRequest, exchange, with --verify-image the "
               "registry) on change and every --verify-interval; Events and metrics tell");
  app.add_option("--verify-interval", flags.verify_interval,
                 "How often --verify-only walks each ServiceAccount's federation (1m-24h)")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--verify-image", flags.verify_image,
                 "With --verify-only: also ask the registry whether each robot may pull this "
                 "image's repository (robots of its registry)")
      ->type_name("IMAGE");
  app.add_flag("--leader-elect", flags.leader_elect,
               "Write only while holding a Lease: run several replicas, one writes");
  app.add_option("--leader-election-namespace", flags.lease_namespace,
                 "The Lease's namespace (default: POD_NAMESPACE, else the pod's own namespace)")
      ->type_name("NAMESPACE");
  app.add_option("--leader-election-id", flags.lease_name, "The Lease's name")
      ->capture_default_str();
  app.add_option("--health-probe-bind-address", flags.health_address,
                 "Serve /healthz and /readyz (plain HTTP) here: [IP]:PORT, or 0 for none")
      ->type_name("ADDRESS")
      ->capture_default_str();
  app.add_option("--metrics-bind-address", flags.metrics_address,
                 "Serve /metrics (Prometheus text, plain HTTP) here: [IP]:PORT, or 0 for none")
      ->type_name("ADDRESS")
      ->capture_default_str();
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "Talk to the API server as this kubeconfig says (default: KUBECONFIG, else "
                 "in-cluster)")
      ->type_name("PATH");
  app.add_option("--context", flags.context, "The kubeconfig context (default: current-context)")
      ->type_name("NAME");
}

bool is_namespace_name(std::string_view name) {
  constexpr std::size_t kMaxLabel = 63;
  return name.size() <= kMaxLabel && name.find('.') == std::string_view::npos &&
         is_dns_subdomain(name);
}

Failure usage(const std::string& message) {
  return Failure(ExitCode::kUsage, "controller: " + message);
}

std::chrono::seconds renew_before_of(const ControllerFlags& flags) {
  const auto parsed = parse_go_duration(flags.renew_before);
  constexpr std::chrono::minutes kMost{50};  // Quay's tokens live an hour
  if (!parsed || *parsed < std::chrono::seconds{1} || *parsed > kMost) {
    throw usage("--renew-before must be a duration from 1s to 50m, such as 15m; got \"" +
                one_line(flags.renew_before) + "\"");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

std::chrono::seconds verify_interval_of(const ControllerFlags& flags) {
  const auto parsed = parse_go_duration(flags.verify_interval);
  constexpr std::chrono::hours kMost{24};
  if (!parsed || *parsed < std::chrono::minutes{1} || *parsed > kMost) {
    throw usage("--verify-interval must be a duration from 1m to 24h, such as 1h; got \"" +
                one_line(flags.verify_interval) + "\"");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

// --verify-image: HOST[:PORT]/REPOSITORY[:TAG|@DIGEST], nothing else.
void check_verify_image(const ControllerFlags& flags) {
  if (flags.verify_image.empty()) {
    return;
  }
  if (!flags.verify_only) {
    throw usage("--verify-image needs --verify-only");
  }
  const std::string registry = registry_of_image(flags.verify_image);
  const bool printable = std::all_of(flags.verify_image.begin(), flags.verify_image.end(),
                                     [](char c) { return c > ' ' && c < 0x7f; });
  if (!printable || !is_valid_host_port(registry) ||
      !flags.verify_image.starts_with(registry + "/") ||
      flags.verify_image.size() <= registry.size() + 1) {
    throw usage(
        "--verify-image must be an image with its registry, such as "
        "quay.example.com/team/app:v1");
  }
}

void check(const ControllerFlags& flags) {
  if (flags.quay_host.empty() || !is_valid_host_port(flags.quay_host)) {
    throw usage("--quay-host must be Quay's HOST[:PORT] (no scheme, no path)");
  }
  if (!flags.registry.empty() && !is_valid_host_port(flags.registry)) {
    throw usage("--registry must be the registry's HOST[:PORT] (no scheme, no path)");
  }
  constexpr std::size_t kLongestAudience = 256;
  if (flags.audience.empty() || flags.audience.size() > kLongestAudience ||
      !std::all_of(flags.audience.begin(), flags.audience.end(),
                   [](char c) { return c > ' ' && c < 0x7f; })) {
    throw usage("--audience must be printable text without spaces, such as \"quay\"");
  }
  for (const auto& name : flags.namespaces) {
    if (!is_namespace_name(name)) {
      throw usage("--namespace \"" + one_line(name) + "\" is not a namespace name");
    }
  }
  if (!flags.lease_namespace.empty() && !is_namespace_name(flags.lease_namespace)) {
    throw usage("--leader-election-namespace is not a namespace name");
  }
  if (!is_dns_subdomain(flags.lease_name)) {
    throw usage("--leader-election-id must be a Kubernetes object name");
  }
  constexpr int kMostWorkers = 64;
  if (flags.workers < 1 || flags.workers > kMostWorkers) {
    throw usage("--workers must be from 1 to 64");
  }
  for (const auto& [flag, address] :
       {std::pair{"--health-probe-bind-address", &flags.health_address},
        std::pair{"--metrics-bind-address", &flags.metrics_address}}) {
    if (*address != "0") {
      check_bind_address(flag, *address);
    }
  }
  if (flags.metrics_address != "0" && flags.metrics_address == flags.health_address &&
      !flags.metrics_address.ends_with(":0")) {  // port 0: each gets its own ephemeral port
    throw usage("--metrics-bind-address and --health-probe-bind-address must differ (or be 0)");
  }
  if (!flags.context.empty() && flags.kubeconfig.empty()) {
    throw usage("--context needs --kubeconfig");
  }
  static_cast<void>(renew_before_of(flags));
  static_cast<void>(verify_interval_of(flags));
  check_verify_image(flags);
}

}  // namespace qcp::controller

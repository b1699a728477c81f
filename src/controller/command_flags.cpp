#include "controller/command_flags.hpp"

#include <algorithm>

#include "qcp/core/duration.hpp"
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
  if (!flags.context.empty() && flags.kubeconfig.empty()) {
    throw usage("--context needs --kubeconfig");
  }
  static_cast<void>(renew_before_of(flags));
}

}  // namespace qcp::controller

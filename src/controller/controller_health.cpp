#include <fmt/format.h>

#include <array>
#include <tuple>

#include "controller/controller_impl.hpp"
#include "qcp/core/duration.hpp"

namespace qcp::controller {
namespace {

constexpr std::string_view kPrefix = "quay_credential_provider_";

// Each watched resource's LISTs (the first, then relists after a 410), watches opened, and
// failed requests, summed over the namespaces watched.
void write_informer_metrics(PrometheusText& out, const std::vector<Scope>& scopes) {
  struct Totals {
    double lists = 0;
    double relists = 0;
    double watches = 0;
    double failures = 0;
    void add(const InformerCounts& counts) {
      const unsigned listed = counts.lists.load();
      lists += listed;
      relists += listed > 0 ? listed - 1 : 0;
      watches += counts.watches.load();
      failures += counts.failures.load();
    }
  };
  Totals accounts;
  Totals secrets;
  Totals pods;
  for (const auto& scope : scopes) {
    accounts.add(scope.accounts->counts());
    if (scope.secrets) {
      secrets.add(scope.secrets->counts());
    }
    if (scope.pods) {
      pods.add(scope.pods->counts());
    }
  }
  const std::string prefix = std::string(kPrefix) + "api_";
  const std::array<std::tuple<const char*, const char*, double Totals::*>, 4> families{{
      {"lists_total", "LISTs completed (the first and each relist).", &Totals::lists},
      {"relists_total", "LISTs after the first: the API server said a version was too old.",
       &Totals::relists},
      {"watches_total", "Watches opened (each ends at its timeout and is resumed).",
       &Totals::watches},
      {"watch_failures_total", "LISTs and watches that failed (retried with backoff).",
       &Totals::failures},
  }};
  for (const auto& [name, help, field] : families) {
    out.family(prefix + name, "counter", help);
    out.sample(prefix + name, accounts.*field, {{"resource", "serviceaccounts"}});
    out.sample(prefix + name, secrets.*field, {{"resource", "secrets"}});
    out.sample(prefix + name, pods.*field, {{"resource", "pods"}});
  }
}

void write_verify_metrics(PrometheusText& out, const Verifier& verifier) {
  const std::string prefix(kPrefix);
  out.family(
      prefix + "verifications_total", "counter",
      "--verify-only: walks of the federation path, by outcome (ok, or the link that broke).");
  for (std::size_t i = 0; i < kVerifyResultNames.size(); ++i) {
    out.sample(prefix + "verifications_total",
               static_cast<double>(verifier.count(static_cast<VerifyResult>(i))),
               {{"result", kVerifyResultNames.at(i)}});
  }
  out.family(prefix + "verify_failing", "gauge",
             "--verify-only: ServiceAccounts whose last verification failed.");
  out.sample(prefix + "verify_failing", static_cast<double>(verifier.failing()));
}

}  // namespace

std::string Controller::watch_problem() const {
  for (const auto& scope : impl_->scopes) {
    for (const auto& [path, counts] :
         {std::pair{&scope.accounts->path(), &scope.accounts->counts()},
          scope.secrets ? std::pair{&scope.secrets->path(), &scope.secrets->counts()}
                        : std::pair<const std::string*, const InformerCounts*>{nullptr, nullptr},
          scope.pods ? std::pair{&scope.pods->path(), &scope.pods->counts()}
                     : std::pair<const std::string*, const InformerCounts*>{nullptr, nullptr}}) {
      if (counts == nullptr) {
        continue;
      }
      if (const unsigned failing = counts->failing.load(); failing > 0) {
        return fmt::format("watching {}: {} failures in a row", *path, failing);
      }
    }
  }
  return {};
}

std::string Controller::stuck_worker() const {
  if (const auto& policy = impl_->settings.provision.policy) {
    if (std::string problem = policy->problem(); !problem.empty()) {
      return problem;  // a restart reads the new annotation keys
    }
  }
  const auto now = impl_->clock.monotonic().time_since_epoch().count();
  const auto limit =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(impl_->settings.stuck_after);
  for (std::size_t i = 0; i < impl_->busy_since.size(); ++i) {
    const auto since = impl_->busy_since.at(i).load();
    if (since != 0 && now - since > limit.count()) {
      return fmt::format(
          "worker {} has been in one reconcile for more than {}", i + 1,
          format_human(std::chrono::ceil<std::chrono::seconds>(impl_->settings.stuck_after)));
    }
  }
  return {};
}

void Controller::write_metrics(PrometheusText& out) const {
  const std::string prefix(kPrefix);
  const auto& counts = impl_->reconciler.counts();
  out.family(prefix + "managed_secrets", "gauge",
             "Pull Secrets this replica keeps renewed (written or adopted).");
  out.sample(prefix + "managed_secrets", static_cast<double>(impl_->reconciler.managed()));
  out.family(prefix + "secret_writes_total", "counter",
             "Pull Secrets written (and removed), by why.");
  for (std::size_t i = 0; i < kWriteReasonNames.size(); ++i) {
    out.sample(prefix + "secret_writes_total", static_cast<double>(counts.writes.at(i).load()),
               {{"reason", kWriteReasonNames.at(i)}});
  }
  out.family(prefix + "failures_total", "counter",
             "Reconciles that failed, by the step that failed (each is retried with backoff).");
  for (std::size_t i = 0; i < kFailureReasonNames.size(); ++i) {
    out.sample(prefix + "failures_total", static_cast<double>(counts.failures.at(i).load()),
               {{"reason", kFailureReasonNames.at(i)}});
  }
  out.family(prefix + "waiting_for_quay", "gauge",
             "ServiceAccounts whose last exchange found Quay unreachable, failing or overloaded "
             "(tried again together once an exchange succeeds).");
  out.sample(prefix + "waiting_for_quay",
             static_cast<double>(impl_->reconciler.waiting_for_quay()));
  counts.exchange.write(out, prefix + "exchange_duration_seconds",
                        "The federation exchange at Quay, retries included.");
  out.family(
      prefix + "earliest_expiry_timestamp_seconds", "gauge",
      "When the first of the managed Secrets' tokens expires (Unix time; absent with none).");
  if (const auto earliest = impl_->reconciler.earliest_expiry()) {
    out.sample(prefix + "earliest_expiry_timestamp_seconds", static_cast<double>(*earliest));
  }
  out.family(prefix + "pod_evictions_total", "counter",
             "Pods created before their pull Secret, by outcome: evicted, refused by a "
             "PodDisruptionBudget (tried again), failed, or not_controlled (told, not evicted).");
  for (std::size_t i = 0; i < kEvictionResultNames.size(); ++i) {
    out.sample(
        prefix + "pod_evictions_total",
        static_cast<double>(impl_->reconciler.evictor().count(static_cast<EvictionResult>(i))),
        {{"result", kEvictionResultNames.at(i)}});
  }
  if (impl_->verifier) {
    write_verify_metrics(out, *impl_->verifier);
  }
  write_informer_metrics(out, impl_->scopes);
}

}  // namespace qcp::controller

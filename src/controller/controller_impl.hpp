#pragma once

// Controller's insides, shared by the files that define it (controller.cpp: the loops;
// controller_health.cpp: health and metrics).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qcp/controller/controller.hpp"
#include "qcp/controller/evictor.hpp"
#include "qcp/controller/informer.hpp"
#include "qcp/controller/verifier.hpp"
#include "qcp/controller/work_queue.hpp"

namespace qcp::controller {

inline std::string label_of(const Secret& secret) {
  const auto it = secret.meta.labels.find(kServiceAccountLabel);
  return it == secret.meta.labels.end() ? std::string() : it->second;
}

// The informers of one namespace ("" for all of them).
struct Scope {
  std::string namespace_name;
  std::unique_ptr<Informer<ServiceAccount>> accounts;
  std::unique_ptr<Informer<Secret>> secrets;  // none with --verify-only
  std::unique_ptr<Informer<Pod>> pods;        // pending pods that cannot pull; none with --no-evict
};

struct Controller::Impl {
  Impl(ApiClient& api, HttpClient& quay_http, ControllerSettings settings, const Clock& clock,
       Log& log);

  [[nodiscard]] const Scope* scope_of(std::string_view namespace_name) const {
    for (const auto& scope : scopes) {
      if (scope.namespace_name.empty() || scope.namespace_name == namespace_name) {
        return &scope;
      }
    }
    return nullptr;
  }
  void add_scope(const std::string& namespace_name);
  // What the informers know: an annotated ServiceAccount, a namespace's managed Secrets, its
  // pending pods that cannot pull.
  [[nodiscard]] std::optional<ServiceAccount> account(const std::string& key) const;
  [[nodiscard]] std::vector<Secret> secrets_of(const std::string& namespace_name) const;
  [[nodiscard]] std::vector<Pod> stuck_pods(const std::string& namespace_name) const;
  void work(std::size_t worker, const StopFlag& stop, const std::function<bool()>& leading);
  void everything_again();

  ControllerSettings settings;
  ApiClient& api;
  const Clock& clock;
  Log& log;
  std::vector<Scope> scopes;
  WorkQueue queue;
  EventRecorder events;
  Reconciler reconciler;
  std::unique_ptr<Verifier> verifier;  // --verify-only: verifies instead of reconciling
  // When each worker's reconcile in progress began (steady-clock ticks; 0: none in progress).
  std::vector<std::atomic<std::int64_t>> busy_since;
};

}  // namespace qcp::controller

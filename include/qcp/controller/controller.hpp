#pragma once

// The controller's loops: informers for annotated ServiceAccounts and managed Secrets (every
// namespace, or each one named), a work queue keyed by ServiceAccount, and workers that
// reconcile a key when it changes and when its credential is due for renewal.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qcp/controller/metrics.hpp"
#include "qcp/controller/namespace.hpp"
#include "qcp/controller/reconciler.hpp"
#include "qcp/controller/verifier.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::controller {

struct ControllerSettings {
  ProvisionSettings provision;
  ExchangeSettings exchange;
  RenewalSettings renewal;
  std::vector<std::string> namespaces;  // --namespace: empty for every namespace
  bool evict = true;                    // --no-evict: pods stuck without the Secret are left
  bool verify_only = false;             // --verify-only: no Secret written, the path verified
  VerifySettings verify;
  int workers = 4;       // --workers: provisionings at once (toward Quay too)
  std::string instance;  // this replica, for Events: the pod's name
  std::chrono::seconds watch_timeout{300};
  // One reconcile makes a handful of requests, each under its own deadline (30 s toward the API
  // server by default, the exchange's total toward Quay): far longer than all of them is a hang.
  std::chrono::milliseconds stuck_after{std::chrono::minutes{10}};
  // How often provision.policy (--policy) is read again.
  std::chrono::milliseconds policy_reread{kPolicyRereadEvery};
};

// What the informers keep: a ServiceAccount that names a robot (with a policy, every one: its
// rules may give any a default robot), with only the annotations the controller reads; a Secret
// labelled as ours, with only our labels and annotations. Trimmed in place; false for what is
// not kept at all.
bool keep_service_account(ServiceAccount& account, const PolicyFile* policy = nullptr);
bool keep_secret(Secret& secret);

class Controller {
 public:
  Controller(ApiClient& api, HttpClient& quay_http, ControllerSettings settings, const Clock& clock,
             Log& log);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;
  Controller(Controller&&) = delete;
  Controller& operator=(Controller&&) = delete;

  // Watches until `stop`; the workers write only while `leading()` (always, without leader
  // election), and every key is looked at again each time leadership is gained.
  void run(const StopFlag& stop, const std::function<bool()>& leading);
  // Every informer has listed once.
  [[nodiscard]] bool synced() const;
  // "" while every informer's last LIST or watch was answered, else which is failing.
  [[nodiscard]] std::string watch_problem() const;
  // "" unless a worker has been in one reconcile for longer than every deadline in it allows
  // (a hang no request timeout ends), or the policy's annotation keys changed (the informers
  // must list again to keep them): what /healthz reports, so the kubelet restarts us.
  [[nodiscard]] std::string stuck_worker() const;
  // The controller's series: managed Secrets, writes and failures by reason, exchange
  // latency, the earliest expiry, and each watched resource's LISTs and watches.
  void write_metrics(PrometheusText& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::controller

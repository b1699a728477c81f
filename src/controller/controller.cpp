#include <algorithm>
#include <thread>

#include "controller/controller_impl.hpp"
#include "qcp/core/memory.hpp"

namespace qcp::controller {
namespace {

// How often a paused worker (not the leader, or not yet synced) looks again.
constexpr std::chrono::milliseconds kPausedCheck{200};
// How often freed heap pages go back to the kernel: renewals decode and encode JSON all the
// time, and glibc would keep what they freed (the scale benchmark, resident in steady state:
// 44.5 MiB without, 42.8 MiB with this and after each LIST; every 10 s did no better).
constexpr std::chrono::seconds kReleaseMemoryEvery{60};
// A pod is several KiB of JSON (kube-api/10a): smaller pages keep a LIST's peak memory down.
constexpr int kPodPageSize = 100;

}  // namespace

Controller::Impl::Impl(ApiClient& api_in, HttpClient& quay_http, ControllerSettings settings_in,
                       const Clock& clock_in, Log& log_in)
    : settings(std::move(settings_in)),
      api(api_in),
      clock(clock_in),
      log(log_in),
      events(api, settings.instance, clock, log),
      reconciler(
          {.api = api,
           .quay_http = quay_http,
           .account = [this](const std::string& key) { return account(key); },
           .secrets = [this](const std::string& ns) { return secrets_of(ns); },
           .stuck_pods =
               settings.evict && !settings.verify_only
                   ? Reconciler::StuckPods([this](const std::string& ns) { return stuck_pods(ns); })
                   : Reconciler::StuckPods(),
           .events = events,
           .clock = clock,
           .log = log,
           .again_now = [this](const std::string& key) { queue.add(key, clock.monotonic()); }},
          settings.provision, settings.exchange, settings.renewal),
      busy_since(static_cast<std::size_t>(std::max(1, settings.workers))) {
  if (settings.verify_only) {
    verifier = std::make_unique<Verifier>(
        Verifier::Parts{
            .api = api, .quay_http = quay_http, .events = events, .clock = clock, .log = log},
        settings.provision, settings.exchange, settings.verify);
  }
  if (settings.namespaces.empty()) {
    add_scope("");
  }
  for (const auto& namespace_name : settings.namespaces) {
    add_scope(namespace_name);
  }
}

std::optional<ServiceAccount> Controller::Impl::account(const std::string& key) const {
  const auto* scope = scope_of(key.substr(0, key.find('/')));
  return scope ? scope->accounts->get(key) : std::nullopt;
}

std::vector<Secret> Controller::Impl::secrets_of(const std::string& namespace_name) const {
  const auto* scope = scope_of(namespace_name);
  return scope && scope->secrets ? scope->secrets->objects(namespace_name + "/")
                                 : std::vector<Secret>{};
}

std::vector<Pod> Controller::Impl::stuck_pods(const std::string& namespace_name) const {
  const auto* scope = scope_of(namespace_name);
  return scope && scope->pods ? scope->pods->objects(namespace_name + "/") : std::vector<Pod>{};
}

void Controller::Impl::add_scope(const std::string& namespace_name) {
  const std::string base =
      namespace_name.empty() ? "/api/v1" : "/api/v1/namespaces/" + namespace_name;
  WatchedResource common;
  common.watch_timeout = settings.watch_timeout;
  common.api_timeout = settings.provision.api_timeout;
  WatchedResource accounts = common;
  accounts.path = base + "/serviceaccounts";
  WatchedResource secrets = common;
  secrets.path = base + "/secrets";
  secrets.label_selector = std::string(kManagedByLabel) + "=" + std::string(kManagedBy);
  Scope scope{.namespace_name = namespace_name, .accounts = {}, .secrets = {}, .pods = {}};
  // Only ServiceAccounts that name a robot are kept (a wrong name too: it gets its Event), or
  // with a policy every one.
  scope.accounts = std::make_unique<Informer<ServiceAccount>>(
      api, accounts,
      [policy = settings.provision.policy.get()](ServiceAccount& account) {
        return keep_service_account(account, policy);
      },
      [this](const ServiceAccount& account, bool /*present*/) {
        queue.add(key_of(account.meta), clock.monotonic());
      },
      log);
  if (!settings.verify_only) {  // --verify-only writes no Secret: none to watch
    scope.secrets = std::make_unique<Informer<Secret>>(
        api, secrets, keep_secret,
        [this](const Secret& secret, bool /*present*/) {
          if (const std::string account = label_of(secret); !account.empty()) {
            queue.add(secret.meta.namespace_name + "/" + account, clock.monotonic());
          }
        },
        log);
  }
  if (settings.evict && !settings.verify_only) {
    // Only pending pods (kube-api/10a), and of those only the ones that cannot pull.
    WatchedResource pods = common;
    pods.path = base + "/pods";
    pods.field_selector = "status.phase=Pending";
    pods.page_size = kPodPageSize;
    scope.pods = std::make_unique<Informer<Pod>>(
        api, pods, keep_stuck_pod,
        [this](const Pod& pod, bool present) {
          if (present) {
            queue.add(pod.meta.namespace_name + "/" + pod.service_account, clock.monotonic());
          }
        },
        log);
  }
  scopes.push_back(std::move(scope));
}

void Controller::Impl::everything_again() {
  reconciler.forget_written();
  const auto now = clock.monotonic();
  for (const auto& scope : scopes) {
    for (const auto& account : scope.accounts->objects()) {
      queue.add(key_of(account.meta), now);
    }
    for (const auto& secret : scope.secrets ? scope.secrets->objects() : std::vector<Secret>{}) {
      queue.add(secret.meta.namespace_name + "/" + label_of(secret), now);
    }
  }
}

void Controller::Impl::work(std::size_t worker, const StopFlag& stop,
                            const std::function<bool()>& leading) {
  while (!stop.requested()) {
    if (!leading()) {
      stop.wait_for(kPausedCheck);
      continue;
    }
    const auto key = queue.take(stop);
    if (!key) {
      return;
    }
    if (leading()) {
      busy_since.at(worker) = clock.monotonic().time_since_epoch().count();
      const auto next =
          verifier ? verifier->verify(*key, account(*key)) : reconciler.reconcile(*key);
      busy_since.at(worker) = 0;
      if (next) {
        queue.add(*key, *next);
      }
    } else {
      queue.add(*key, clock.monotonic());  // the next leader's, or ours when we lead again
    }
    queue.done(*key);
  }
}

Controller::Controller(ApiClient& api, HttpClient& quay_http, ControllerSettings settings,
                       const Clock& clock, Log& log)
    : impl_(std::make_unique<Impl>(api, quay_http, std::move(settings), clock, log)) {}

Controller::~Controller() = default;

bool Controller::synced() const {
  return std::all_of(impl_->scopes.begin(), impl_->scopes.end(), [](const Scope& scope) {
    return scope.accounts->synced() && (!scope.secrets || scope.secrets->synced()) &&
           (!scope.pods || scope.pods->synced());
  });
}

void Controller::run(const StopFlag& stop, const std::function<bool()>& leading) {
  // Declared after what they use: joined (at the end of this scope) before it goes.
  std::vector<std::jthread> threads;
  for (auto& scope : impl_->scopes) {
    threads.emplace_back([&stop, &scope] { scope.accounts->run(stop); });
    if (scope.secrets) {
      threads.emplace_back([&stop, &scope] { scope.secrets->run(stop); });
    }
    if (scope.pods) {
      threads.emplace_back([&stop, &scope] { scope.pods->run(stop); });
    }
  }
  // Absence means nothing until every informer has listed: no worker runs before.
  while (!synced() && !stop.wait_for(kPausedCheck)) {
  }
  impl_->log.info("synced: {} ServiceAccounts and Secrets to look at; {} workers",
                  impl_->queue.waiting(), impl_->settings.workers);
  for (std::size_t i = 0; i < impl_->busy_since.size(); ++i) {
    threads.emplace_back([&, i] { impl_->work(i, stop, leading); });
  }
  // Each time this replica becomes the leader, it looks at every key again (it may not have
  // written them, or may have missed what the last leader did, or its own writes were refused
  // while it did not lead). Watched on a thread of its own: the workers may all be waiting for a
  // renewal minutes away when the lease comes back.
  threads.emplace_back([&] {
    for (bool was_leading = false; !stop.requested(); stop.wait_for(kPausedCheck)) {
      const bool now = leading();
      if (now && !was_leading) {
        impl_->everything_again();
      }
      was_leading = now;
    }
  });
  threads.emplace_back([&stop] {
    while (!stop.wait_for(kReleaseMemoryEvery)) {
      release_free_memory();
    }
  });
  if (const auto& policy = impl_->settings.provision.policy) {
    // An edit changes who gets which robot: every ServiceAccount is looked at again.
    threads.emplace_back([&stop, &policy, this] {
      while (!stop.wait_for(impl_->settings.policy_reread)) {
        if (policy->reread(impl_->log)) {
          impl_->everything_again();
        }
      }
    });
  }
}

}  // namespace qcp::controller

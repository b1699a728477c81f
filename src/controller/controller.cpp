#include "qcp/controller/controller.hpp"

#include <algorithm>
#include <thread>

#include "qcp/controller/informer.hpp"
#include "qcp/controller/work_queue.hpp"

namespace qcp::controller {
namespace {

// How often a paused worker (not the leader, or not yet synced) looks again.
constexpr std::chrono::milliseconds kPausedCheck{200};

std::string label_of(const Secret& secret) {
  const auto it = secret.meta.labels.find(kServiceAccountLabel);
  return it == secret.meta.labels.end() ? std::string() : it->second;
}

// Drops every entry but `keys`: a ServiceAccount's or Secret's other labels and annotations
// (a kubectl last-applied-configuration can be kilobytes) are never read.
void only(std::map<std::string, std::string, std::less<>>& entries,
          std::initializer_list<std::string_view> keys) {
  std::erase_if(entries, [&](const auto& entry) {
    return std::find(keys.begin(), keys.end(), entry.first) == keys.end();
  });
}

// The informers of one namespace ("" for all of them).
struct Scope {
  std::string namespace_name;
  std::unique_ptr<Informer<ServiceAccount>> accounts;
  std::unique_ptr<Informer<Secret>> secrets;
};

}  // namespace

bool keep_service_account(ServiceAccount& account) {
  if (!account.meta.annotations.contains(kRobotAnnotation)) {
    return false;
  }
  only(account.meta.annotations, {kRobotAnnotation, kHostAnnotation, kSecretNameAnnotation});
  account.meta.labels.clear();
  return true;
}

bool keep_secret(Secret& secret) {
  if (label_of(secret).empty()) {
    return false;
  }
  only(secret.meta.labels, {kManagedByLabel, kServiceAccountLabel});
  only(secret.meta.annotations, {kRobotKey, kExpiresKey});
  return true;
}

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
  void work(const StopFlag& stop, const std::function<bool()>& leading);
  void everything_again();

  ControllerSettings settings;
  ApiClient& api;
  const Clock& clock;
  Log& log;
  std::vector<Scope> scopes;
  WorkQueue queue;
  EventRecorder events;
  Reconciler reconciler;
};

Controller::Impl::Impl(ApiClient& api_in, HttpClient& quay_http, ControllerSettings settings_in,
                       const Clock& clock_in, Log& log_in)
    : settings(std::move(settings_in)),
      api(api_in),
      clock(clock_in),
      log(log_in),
      events(api, settings.instance, clock, log),
      reconciler({.api = api,
                  .quay_http = quay_http,
                  .account =
                      [this](const std::string& key) {
                        const auto* scope = scope_of(key.substr(0, key.find('/')));
                        return scope ? scope->accounts->get(key) : std::nullopt;
                      },
                  .secrets =
                      [this](const std::string& namespace_name) {
                        const auto* scope = scope_of(namespace_name);
                        return scope ? scope->secrets->objects(namespace_name + "/")
                                     : std::vector<Secret>{};
                      },
                  .events = events,
                  .clock = clock,
                  .log = log},
                 settings.provision, settings.exchange, settings.renewal) {
  if (settings.namespaces.empty()) {
    add_scope("");
  }
  for (const auto& namespace_name : settings.namespaces) {
    add_scope(namespace_name);
  }
}

void Controller::Impl::add_scope(const std::string& namespace_name) {
  const std::string base =
      namespace_name.empty() ? "/api/v1" : "/api/v1/namespaces/" + namespace_name;
  const WatchedResource common{.path = {},
                               .label_selector = {},
                               .watch_timeout = settings.watch_timeout,
                               .api_timeout = settings.provision.api_timeout};
  WatchedResource accounts = common;
  accounts.path = base + "/serviceaccounts";
  WatchedResource secrets = common;
  secrets.path = base + "/secrets";
  secrets.label_selector = std::string(kManagedByLabel) + "=" + std::string(kManagedBy);
  Scope scope{.namespace_name = namespace_name, .accounts = {}, .secrets = {}};
  // Only ServiceAccounts that name a robot are kept (a wrong name too: it gets its Event).
  scope.accounts = std::make_unique<Informer<ServiceAccount>>(
      api, accounts, keep_service_account,
      [this](const ServiceAccount& account, bool /*present*/) {
        queue.add(key_of(account.meta), clock.monotonic());
      },
      log);
  scope.secrets = std::make_unique<Informer<Secret>>(
      api, secrets, keep_secret,
      [this](const Secret& secret, bool /*present*/) {
        if (const std::string account = label_of(secret); !account.empty()) {
          queue.add(secret.meta.namespace_name + "/" + account, clock.monotonic());
        }
      },
      log);
  scopes.push_back(std::move(scope));
}

void Controller::Impl::everything_again() {
  reconciler.forget_written();
  const auto now = clock.monotonic();
  for (const auto& scope : scopes) {
    for (const auto& account : scope.accounts->objects()) {
      queue.add(key_of(account.meta), now);
    }
    for (const auto& secret : scope.secrets->objects()) {
      queue.add(secret.meta.namespace_name + "/" + label_of(secret), now);
    }
  }
}

void Controller::Impl::work(const StopFlag& stop, const std::function<bool()>& leading) {
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
      if (const auto next = reconciler.reconcile(*key)) {
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
    return scope.accounts->synced() && scope.secrets->synced();
  });
}

void Controller::run(const StopFlag& stop, const std::function<bool()>& leading) {
  // Each time this replica becomes the leader, it looks at every key again (it may not have
  // written them, or may have missed what the last leader did).
  std::atomic<bool> was_leading{false};
  const auto leading_now = [&] {
    const bool now = leading();
    if (now && !was_leading.exchange(true)) {
      impl_->everything_again();
    } else if (!now) {
      was_leading = false;
    }
    return now;
  };
  // Declared after what they use: joined (at the end of this scope) before it goes.
  std::vector<std::jthread> threads;
  for (auto& scope : impl_->scopes) {
    threads.emplace_back([&stop, &scope] { scope.accounts->run(stop); });
    threads.emplace_back([&stop, &scope] { scope.secrets->run(stop); });
  }
  // Absence means nothing until every informer has listed: no worker runs before.
  while (!synced() && !stop.wait_for(kPausedCheck)) {
  }
  impl_->log.info("synced: {} ServiceAccounts and Secrets to look at; {} workers",
                  impl_->queue.waiting(), impl_->settings.workers);
  for (int i = 0; i < std::max(1, impl_->settings.workers); ++i) {
    threads.emplace_back([&] { impl_->work(stop, leading_now); });
  }
}

}  // namespace qcp::controller

#pragma once

// One ServiceAccount's pull Secret made what its annotations ask, from what the informers know:
// provisioned when missing, renewed when due, put back when edited or deleted by hand, replaced
// when the robot changes, withdrawn when the annotation goes. Called by the workers for one key
// at a time (the work queue sees to that); answers when to look at the key again.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qcp/controller/events.hpp"
#include "qcp/controller/namespace.hpp"
#include "qcp/controller/provision.hpp"

namespace qcp::controller {

struct RenewalSettings {
  // Renew this long before the token expires (never later than half its life: renew_after).
  std::chrono::seconds renew_before{900};
  // A failed provisioning is retried after a full-jitter backoff from base doubling to cap.
  std::chrono::milliseconds retry_base{5000};
  std::chrono::milliseconds retry_cap{300000};
};

class Reconciler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Parts {
    ApiClient& api;
    HttpClient& quay_http;
    // What the informers know (whichever of them watches the namespace): an annotated
    // ServiceAccount by key, and the managed Secrets of a namespace.
    std::function<std::optional<ServiceAccount>(const std::string& key)> account;
    std::function<std::vector<Secret>(const std::string& namespace_name)> secrets;
    EventRecorder& events;
    const Clock& clock;
    Log& log;
  };
  Reconciler(Parts parts, ProvisionSettings provision, ExchangeSettings exchange,
             RenewalSettings renewal);

  // When to look at `key` again (its renewal, or a retry); nullopt: only when it changes.
  std::optional<TimePoint> reconcile(const std::string& key);
  // Forgets what this replica wrote: after another leader's term, what the Secrets say counts.
  void forget_written();

 private:
  // What this replica wrote for a ServiceAccount (or adopted from a Secret it finds valid).
  struct Written {
    std::string secret_name;
    std::string robot;
    std::string account_uid;
    std::string secret_sha256;
    TimePoint renew_at;
  };
  std::optional<TimePoint> withdraw_all(const std::string& key);
  std::optional<TimePoint> make_right(const ServiceAccount& account, const Wanted& wanted);
  std::optional<Written> adoptable(const ServiceAccount& account, const Wanted& wanted,
                                   const std::optional<Secret>& secret) const;
  [[nodiscard]] bool in_place(const ServiceAccount& account, const Written& written,
                              const std::optional<Secret>& cached);
  std::optional<TimePoint> provision_now(const ServiceAccount& account, const char* reason);
  TimePoint retry_later(const ServiceAccount& account, const std::string& reason,
                        const std::string& message);
  [[nodiscard]] TimePoint renewal_time(std::chrono::milliseconds left) const;

  Parts parts_;
  ProvisionSettings provision_;
  ExchangeSettings exchange_;
  RenewalSettings renewal_;
  std::mutex mutex_;  // guards the maps: workers reconcile different keys at once
  std::map<std::string, Written, std::less<>> written_;
  std::map<std::string, int, std::less<>> failures_;
  std::map<std::string, std::string, std::less<>> refused_;  // the last annotation problem told
};

}  // namespace qcp::controller

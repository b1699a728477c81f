#pragma once

// One ServiceAccount's pull Secret made what its annotations ask, from what the informers know:
// provisioned when missing, renewed when due, put back when edited or deleted by hand, replaced
// when the robot changes, withdrawn when the annotation goes. Called by the workers for one key
// at a time (the work queue sees to that); answers when to look at the key again.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qcp/controller/events.hpp"
#include "qcp/controller/evictor.hpp"
#include "qcp/controller/metrics.hpp"
#include "qcp/controller/namespace.hpp"
#include "qcp/controller/provision.hpp"
#include "qcp/controller/quay_outage.hpp"

namespace qcp::controller {

struct RenewalSettings {
  // Renew this long before the token expires (never later than half its life: renew_after).
  std::chrono::seconds renew_before{900};
  // A failed provisioning is retried after a full-jitter backoff from base doubling to cap.
  std::chrono::milliseconds retry_base{5000};
  std::chrono::milliseconds retry_cap{300000};
};

// Why a Secret was written (each has its Event reason), and why a reconcile failed.
enum class WriteReason : std::uint8_t { kCreated, kRefreshed, kRestored, kReplaced, kRemoved };
inline constexpr std::array<std::string_view, 5> kWriteReasonNames{
    "created", "refreshed", "restored", "replaced", "removed"};
enum class FailureReason : std::uint8_t { kTokenRequest, kExchange, kApi, kInvalidAnnotation };
inline constexpr std::array<std::string_view, 4> kFailureReasonNames{"token_request", "exchange",
                                                                     "api", "invalid_annotation"};

// What the reconciler has done, for /metrics.
struct ReconcilerCounts {
  std::array<std::atomic<std::uint64_t>, kWriteReasonNames.size()> writes{};
  std::array<std::atomic<std::uint64_t>, kFailureReasonNames.size()> failures{};
  LatencyHistogram exchange;  // each exchange at Quay, failed ones too
};

class Reconciler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The pending pods of a namespace that cannot pull (the pod informer's); empty: no eviction.
  using StuckPods = std::function<std::vector<Pod>(const std::string& namespace_name)>;
  struct Parts {
    ApiClient& api;
    HttpClient& quay_http;
    // What the informers know (whichever of them watches the namespace): an annotated
    // ServiceAccount by key, and the managed Secrets of a namespace.
    std::function<std::optional<ServiceAccount>(const std::string& key)> account;
    std::function<std::vector<Secret>(const std::string& namespace_name)> secrets;
    StuckPods stuck_pods;
    EventRecorder& events;
    const Clock& clock;
    Log& log;
    // Look at `key` again at once: the ServiceAccounts that waited for Quay, once it is back.
    std::function<void(const std::string& key)> again_now;
  };
  Reconciler(Parts parts, ProvisionSettings provision, ExchangeSettings exchange,
             RenewalSettings renewal);

  // When to look at `key` again (its renewal, or a retry); nullopt: only when it changes.
  std::optional<TimePoint> reconcile(const std::string& key);
  // Forgets what this replica wrote: after another leader's term, what the Secrets say counts.
  void forget_written();

  [[nodiscard]] const ReconcilerCounts& counts() const { return counts_; }
  [[nodiscard]] const Evictor& evictor() const { return evictor_; }
  // The Secrets this replica keeps renewed (wrote or adopted), and the earliest of their
  // tokens' expiries (Unix seconds; nullopt when there are none).
  [[nodiscard]] std::size_t managed() const;
  [[nodiscard]] std::optional<std::int64_t> earliest_expiry() const;
  // The ServiceAccounts whose last exchange found Quay unavailable.
  [[nodiscard]] std::size_t waiting_for_quay() const { return outage_.waiting(); }

 private:
  // What this replica wrote for a ServiceAccount (or adopted from a Secret it finds valid).
  struct Written {
    std::string secret_name;
    std::string robot;
    std::string account_uid;
    std::string secret_sha256;
    TimePoint renew_at;
    // When the token expires: on the monotonic clock, which every decision uses (the wall clock
    // may step), and as the Secret's expires annotation says it, for metrics.
    TimePoint valid_until;
    std::int64_t expires_unix = 0;
  };
  // Removes every Secret made for the ServiceAccount; `why` ends the Event's message.
  std::optional<TimePoint> withdraw_all(const std::string& key, const std::string& why);
  void refused(const ServiceAccount& account, const Failure& failure, const char* reason);
  void forget_refusal(const std::string& key);
  std::optional<TimePoint> make_right(const ServiceAccount& account, const Wanted& wanted);
  // Once the Secret is in place: its ServiceAccount's pods that were created without it are
  // evicted. The sooner of `renew_at` and when to try evicting again.
  TimePoint evict_stuck(const ServiceAccount& account, const Wanted& wanted, TimePoint renew_at);
  std::optional<Written> adoptable(const ServiceAccount& account, const Wanted& wanted,
                                   const std::optional<Secret>& secret) const;
  [[nodiscard]] bool in_place(const ServiceAccount& account, const Written& written,
                              const std::optional<Secret>& cached);
  TimePoint secret_in_place(const ServiceAccount& account, const Wanted& wanted);
  // `cached`: the Secret as the informer holds it, which the write goes from.
  TimePoint provision_now(const ServiceAccount& account, WriteReason reason,
                          const std::optional<Secret>& cached);
  // `quay_unavailable`: the exchange failed for Quay being down, failing or overloaded.
  TimePoint retry_later(const ServiceAccount& account, FailureReason reason,
                        const std::string& message, bool quay_unavailable);
  // An exchange for `key` succeeded: the ServiceAccounts that waited for Quay are tried again.
  void quay_answered(const std::string& key);
  // The longest a retry may wait for a Secret whose token expires at `valid_until`.
  [[nodiscard]] std::chrono::milliseconds before_expiry(TimePoint valid_until) const;
  // When to renew a token with `left` to live; `first` for a Secret just created.
  [[nodiscard]] TimePoint renewal_time(std::chrono::milliseconds left, bool first) const;

  Parts parts_;
  ProvisionSettings provision_;
  ExchangeSettings exchange_;
  RenewalSettings renewal_;
  ReconcilerCounts counts_;
  Evictor evictor_;
  QuayOutage outage_;
  mutable std::mutex mutex_;  // guards the maps: workers reconcile different keys at once
  std::map<std::string, Written, std::less<>> written_;
  std::map<std::string, int, std::less<>> failures_;
  std::map<std::string, std::string, std::less<>> refused_;  // the last annotation problem told
};

}  // namespace qcp::controller

#pragma once

// --verify-only: for clusters whose kubelets run the credential plugin, so no pull Secret is
// written. For each annotated ServiceAccount, when it changes and every --verify-interval, the
// whole federation is walked as the plugin would walk it at the next pull: a TokenRequest for
// it, the exchange at Quay, and (with --verify-image, or the ServiceAccount's
// quay-credential-provider/verify-image annotation) the registry's token endpoint for that
// repository. Nothing is written but Events (when the outcome changes) and metrics, so a deleted
// federation binding, a rotated issuer key or a renamed robot shows up before a pod needs it.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "qcp/controller/events.hpp"
#include "qcp/controller/namespace.hpp"
#include "qcp/controller/provision.hpp"

namespace qcp::controller {

inline constexpr std::string_view kVerifyImageAnnotation = "quay-credential-provider/verify-image";

enum class VerifyResult : std::uint8_t { kOk, kAnnotation, kTokenRequest, kExchange, kRegistry };
inline constexpr std::array<std::string_view, 5> kVerifyResultNames{
    "ok", "invalid_annotation", "token_request", "exchange", "registry"};

struct VerifySettings {
  std::chrono::seconds interval{3600};  // --verify-interval
  std::string image;                    // --verify-image: "" for none
  // A failed verification is tried again sooner, backing off from base to cap (it is the
  // outcome that counts, and one blip should not stand for an hour).
  std::chrono::milliseconds retry_base{5000};
  std::chrono::milliseconds retry_cap{300000};
};

class Verifier {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Parts {
    ApiClient& api;
    HttpClient& quay_http;
    EventRecorder& events;
    const Clock& clock;
    Log& log;
  };
  Verifier(Parts parts, ProvisionSettings provision, ExchangeSettings exchange,
           VerifySettings settings);

  // Verifies `account` (nullopt: it is gone or names no robot, and is forgotten); when to again.
  std::optional<TimePoint> verify(const std::string& key,
                                  const std::optional<ServiceAccount>& account);

  [[nodiscard]] std::uint64_t count(VerifyResult result) const {
    return counts_.at(static_cast<std::size_t>(result)).load(std::memory_order_relaxed);
  }
  // ServiceAccounts whose last verification failed.
  [[nodiscard]] std::size_t failing() const;

 private:
  struct Outcome {
    VerifyResult result = VerifyResult::kOk;
    std::string message;
  };
  [[nodiscard]] Outcome walk(const ServiceAccount& account) const;
  void tell(const ServiceAccount& account, const Outcome& outcome);

  Parts parts_;
  ProvisionSettings provision_;
  ExchangeSettings exchange_;
  VerifySettings settings_;
  mutable std::mutex mutex_;
  std::map<std::string, Outcome, std::less<>> last_;  // the last outcome told, by key
  std::map<std::string, int, std::less<>> failures_;  // failures in a row, by key
  std::array<std::atomic<std::uint64_t>, kVerifyResultNames.size()> counts_{};
};

}  // namespace qcp::controller

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/http.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/settings.hpp"

namespace qcp::quay {

inline constexpr std::string_view kFederationPath = "/oauth2/federation/robot/token";
// Quay's federated robot tokens live exactly one hour (not configurable on the server).
inline constexpr std::chrono::seconds kQuayTokenLifetime{3600};

struct ExchangeSettings {
  TrustStore trust;
  std::string proxy;  // from HTTPS_PROXY/https_proxy, checked (parse_proxy_url); empty: direct
  std::string proxy_userinfo;  // its "user:password", scrubbed from every message
  std::string no_proxy;        // from NO_PROXY/no_proxy
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds attempt_timeout{10000};
  // One deadline for everything: attempts, waits between them, Retry-After. total_timeout names
  // it in messages; `deadline` (monotonic) is when it ends, default: now + total_timeout, so a
  // caller that already spent time (reading stdin) passes the deadline it started.
  std::chrono::milliseconds total_timeout{20000};
  std::optional<std::chrono::steady_clock::time_point> deadline;
  int retries = 3;  // further attempts after the first, for transport errors, 5xx and 429 only
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{4000};
  std::function<double()> uniform;                   // [0,1) for jitter; default: random
  std::function<void(const std::string&)> on_retry;  // told why and how long we wait
  std::string user_agent;
  SettingNames names;  // what messages call --ca-file, --timeout, --attempt-timeout
};

struct QuayToken {
  std::string value;
  // exp - iat: the lifetime Quay gave the token, on Quay's own clock; nullopt without both.
  std::optional<std::chrono::seconds> lifetime;
  std::chrono::steady_clock::time_point requested_at;  // when the answering request was sent
  std::optional<std::int64_t> issued_at;               // iat, on Quay's clock
  std::chrono::system_clock::time_point expires_at;    // exp on the node's clock (fallback)
  bool expiry_assumed = false;  // the token had no exp: Quay's fixed one-hour lifetime was assumed
};

// Why an exchange failed. quay_unavailable(): Quay could not be reached, or said it was failing or
// overloaded, for every attempt the deadline allowed (what another try later may cure, for every
// robot at once), as opposed to a final answer about this robot, token or trust.
class ExchangeFailure : public Failure {
 public:
  ExchangeFailure(const Failure& failure, bool quay_unavailable)
      : Failure(failure), quay_unavailable_(quay_unavailable) {}
  [[nodiscard]] bool quay_unavailable() const { return quay_unavailable_; }

 private:
  bool quay_unavailable_;
};

// What is left of `deadline` in whole milliseconds, rounded down: an attempt never gets more time
// than is left, and under 1 ms counts as none (libcurl reads a timeout of 0 as "no timeout").
std::chrono::milliseconds deadline_left(std::chrono::steady_clock::time_point deadline,
                                        const Clock& clock);
// The attempt's timeouts on `request`: the settings' attempt and connect timeouts, cut to `left`.
void bound_attempt(HttpRequest& request, const ExchangeSettings& settings,
                   std::chrono::milliseconds left);

// GET https://<quay_host>/oauth2/federation/robot/token with Basic robot:<service-account JWT>.
// Every refusal becomes an ExchangeFailure whose message carries Quay's own words and a hint.
QuayToken exchange_token(HttpClient& http, const Identity& identity,
                         const std::string& service_account_token, const ExchangeSettings& settings,
                         const Clock& clock);

}  // namespace qcp::quay

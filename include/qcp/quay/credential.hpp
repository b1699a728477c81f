#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/log.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// A robot token minted for one registry: what every mode hands on (to the kubelet, to a docker
// config, to a pull Secret).
struct RobotCredential {
  std::string registry;  // HOST[:PORT], the auths key
  std::string robot;     // org+name
  std::string token;     // Quay's robot token (a secret)
  // When it expires on this machine's clock (Quay's lifetime counted from the request).
  std::chrono::system_clock::time_point expires_at;
  // The token's own exp (Unix seconds, Quay's clock): what External Secrets' generator prints.
  std::optional<std::int64_t> exp;
  // The same moment on the monotonic clock: what decides while it runs (a wall clock stepped
  // back must not make an expired credential look valid).
  std::chrono::steady_clock::time_point valid_until{};
};

// The one way every mode mints: `identity_token` (a service-account or CI OIDC JWT) exchanged at
// identity.quay_host for identity.robot's token, timed by quay/token_lifetime. Warns (once, on
// `log`) when Quay's token has no exp or Quay's clock is far from ours. Throws Failure with
// Quay's own words and a hint.
RobotCredential mint_credential(HttpClient& http, const Identity& identity,
                                const std::string& identity_token, const ExchangeSettings& settings,
                                const Clock& clock, Log& log);

}  // namespace qcp::quay

#include "qcp/quay/credential.hpp"

#include "qcp/core/duration.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/token_lifetime.hpp"

namespace qcp::quay {
namespace {

// Quay signs iat with its own clock; a large difference from ours breaks other things (the
// identity token's exp and iat are checked on Quay's clock), so say so once.
void warn_about_clock_skew(const QuayToken& token, const Clock& clock, Log& log) {
  constexpr std::chrono::seconds kTolerated{60};
  if (!token.issued_at) {
    return;
  }
  const auto ahead = seconds_between(from_unix_seconds(*token.issued_at), clock.now());
  if (ahead > kTolerated || ahead < -kTolerated) {
    log.warn(
        "this node's clock is {} {} Quay's (by the robot token's iat); the expiry counts "
        "Quay's own token lifetime, but synchronise the clocks (NTP)",
        format_human(ahead < std::chrono::seconds{0} ? -ahead : ahead),
        ahead < std::chrono::seconds{0} ? "behind" : "ahead of");
  }
}

std::optional<std::int64_t> own_exp(const QuayToken& token) {
  if (token.expiry_assumed) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::seconds>(token.expires_at.time_since_epoch())
      .count();
}

}  // namespace

RobotCredential mint_credential(HttpClient& http, const Identity& identity,
                                const std::string& identity_token, const ExchangeSettings& settings,
                                const Clock& clock, Log& log) {
  log.debug("exchanging for robot {} at https://{}{} (registry {}, CAs from {})", identity.robot,
            identity.quay_host, kFederationPath, identity.registry, settings.trust.source);
  QuayToken token = exchange_token(http, identity, identity_token, settings, clock);
  if (token.expiry_assumed) {
    log.warn("Quay's token has no exp claim; assuming Quay's fixed one-hour lifetime");
  }
  warn_about_clock_skew(token, clock, log);
  const auto until = valid_until(token, clock);
  // The wall-clock expiry is the monotonic one read on this machine's clock: right even when
  // the node's wall clock and Quay's disagree.
  const auto expires_at =
      clock.now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(until - clock.monotonic());
  return {.registry = identity.registry,
          .robot = identity.robot,
          .token = std::move(token.value),
          .expires_at = expires_at,
          .exp = own_exp(token),
          .valid_until = until};
}

}  // namespace qcp::quay

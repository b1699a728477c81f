#include "quay/exchange_answers.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::quay {
namespace {

struct Hint {
  std::string_view message_start;  // Quay's message, matched from its start
  std::string_view advice;
};

constexpr std::string_view kDiscoveryIssuerDiffers =
    "the issuer's discovery document (<iss>/.well-known/openid-configuration) names another "
    "issuer than the token's iss: publish it with \"issuer\" equal to the API server's "
    "--service-account-issuer";

// Quay fetches the issuer's discovery document and JWKS during the exchange, with no timeout of
// its own: a slow issuer looks like a slow Quay.
constexpr const char* kQuayMayWaitOnIssuer =
    " (Quay may itself be waiting on the issuer's discovery document or JWKS, which it fetches "
    "with no timeout)";

// What each of Quay's 400 messages means for the operator (quay-federation.md §3), the specific
// "Invalid token: ..." ones before the generic one.
constexpr std::array<Hint, 14> kHints = {{
    {"Could not find robot",
     "create the robot in Quay or fix the service account's quay.io/federated-robot-account"},
    {"Robot does not have federated login configured",
     "add a federation binding to the robot: the token's issuer and subject (see the kubelet "
     "log's token details with --log-level=debug)"},
    {"issuer ",
     "the robot's federation binding must name the service-account issuer exactly (no "
     "trailing-slash normalisation)"},
    {"Token does not match robot",
     "the binding's subject must be system:serviceaccount:<namespace>:<service account> of the "
     "pod"},
    {"Invalid token: Audience doesn't match",
     "the token's audience is tokenAttributes.serviceAccountTokenAudience in the kubelet's "
     "config; the robot's federation binding audiences must contain it"},
    {"Invalid token: Issuer '", kDiscoveryIssuerDiffers},        // Quay 3.18
    {"Invalid token: Invalid issuer", kDiscoveryIssuerDiffers},  // Quay 3.13-3.17
    {"Invalid token: Signature has expired",
     "the service-account token was expired when Quay checked it: compare the node's and Quay's "
     "clocks"},
    {"Invalid token: Issued At claim (iat) cannot be in the future",
     "the token was issued in Quay's future: compare the clocks of the API server, this node and "
     "Quay (NTP)"},
    {"Invalid token: The specified alg value is not allowed",
     "Quay verifies RS256 and RS384 only: the API server's service-account signing key must be "
     "RSA"},
    {"Invalid token: Missing `kid` header",
     "the token names no signing key (kid): it is not a Kubernetes service-account token"},
    // Quay checked the signature with the issuer's keys before it read the claims: they were
    // reachable (quay-federation.md row 14, run).
    {"Invalid token: Token is missing the",
     "Quay verified the token with its issuer's keys, but it lacks a claim Quay requires: a "
     "TokenRequest token from the API server has exp, iat and aud, so this one was minted some "
     "other way"},
    {"Invalid token",
     "Quay could not verify the service-account token with its issuer's published keys: the "
     "issuer's discovery document and JWKS must be reachable from Quay over HTTPS"},
    {"Token does not contain issuer", "the service-account token has no issuer claim"},
}};

std::string_view advice_for(std::string_view quay_message) {
  for (const auto& hint : kHints) {
    if (quay_message.starts_with(hint.message_start)) {
      return hint.advice;
    }
  }
  return {};
}

// Quay puts its reason under "message" (400) or "error" (401); anything else is not Quay's JSON.
std::string quay_reason(const HttpResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    for (const char* key : {"message", "error", "error_description"}) {
      if (const auto it = body.find(key); it != body.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  }
  return {};
}

std::string describe_body(const HttpResponse& response) {
  if (response.body.empty()) {
    return "an empty body";
  }
  if (response.content_type.find("html") != std::string::npos ||
      response.body.find("<html") != std::string::npos ||
      response.body.find("<!DOCTYPE") != std::string::npos) {
    return "an HTML page, not Quay's JSON";
  }
  return "a body without Quay's message";
}

std::string status_advice(long status) {
  if (status == 401) {
    return "Quay could not read the robot credentials; the robot name must be "
           "\"<namespace>+<robot>\"";
  }
  if (status == 404 || status == 405) {
    return "this host serves no robot federation endpoint: it needs Quay 3.13 or later, and the "
           "image's registry (or quay.io/host) must be Quay's own host name";
  }
  if (status == 429) {
    return "Quay is rate limiting; the kubelet retries on the next pull";
  }
  if (status == 500) {
    return "Quay failed while verifying the token: it cannot fetch the issuer's discovery "
           "document or JWKS over HTTPS, or the token's kid is not in that JWKS (a token from "
           "another cluster, or a rotated key), or the key is not RSA (e.g. ES256)";
  }
  if (status > 500) {
    return "Quay or a gateway in front of it is unavailable";
  }
  if (status >= 300 && status < 400) {
    return "redirects are not followed; point the image (or quay.io/host) at Quay's canonical host";
  }
  return {};
}

// The fix for an untrusted certificate, in the words of the mode's setting (a flag or a
// variable).
std::string name_the_ca(const std::string& ca_file) {
  return ca_file.starts_with("--")
             ? "pass " + ca_file + " with the CA that signed Quay's certificate"
             : "set " + ca_file + " to a file with the CA that signed Quay's certificate";
}

}  // namespace

Failure refusal(const HttpResponse& response, const Identity& identity, const Redactor& redactor) {
  std::string message = "Quay at " + identity.quay_host + " refused robot \"" + identity.robot +
                        "\" (HTTP " + std::to_string(response.status) + ")";
  const std::string reason = quay_reason(response);
  std::string advice;
  if (!reason.empty()) {
    message += ": " + redactor.scrub(reason);
    advice = std::string(advice_for(reason));
  } else {
    message += " with " + describe_body(response);
  }
  if (advice.empty()) {
    advice = status_advice(response.status);
  }
  if (!advice.empty()) {
    message += " - " + advice;
  }
  return {ExitCode::kLookupFailed, message};
}

Failure unreachable(const TransportError& error, const Identity& identity,
                    const ExchangeSettings& settings, const Redactor& redactor) {
  const std::string detail = redactor.scrub(error.detail);
  const std::string where = "Quay at " + identity.quay_host;
  const auto failed = [](std::string message) { return Failure(ExitCode::kLookupFailed, message); };
  switch (error.kind) {
    case TransportError::Kind::kCertificate:
      return failed("TLS certificate problem with " + where + " (trusted CAs from " +
                    settings.trust.source + "): " + detail + " - " +
                    name_the_ca(settings.names(Setting::kCaFile)));
    case TransportError::Kind::kProxyCertificate:
      return failed("TLS certificate problem with the HTTPS proxy, not Quay (trusted CAs from " +
                    settings.trust.source + "): " + detail +
                    " - the proxy's certificate must be signed by a trusted CA");
    case TransportError::Kind::kTlsInterrupted:
      return failed("the TLS handshake with " + where + " was cut off: " + detail);
    case TransportError::Kind::kNotTls:
      return failed(where + " did not answer in TLS (" + detail +
                    "): is that port plain HTTP? The image (or quay.io/host) must name Quay's "
                    "HTTPS port");
    case TransportError::Kind::kTlsVersion:
      return failed(where + " offers no TLS 1.2 or 1.3 (" + detail +
                    "); this provider speaks nothing older");
    case TransportError::Kind::kTls:
      return failed("the TLS handshake with " + where + " failed: " + detail);
    case TransportError::Kind::kNoDescriptors:
      return failed("this process is out of file descriptors (" + detail +
                    ") - raise the open-file limit of the kubelet (LimitNOFILE)");
    case TransportError::Kind::kTimeout:
      return failed(
          where + " did not answer within " + settings.names(Setting::kAttemptTimeout) + " " +
          format_human(std::chrono::duration_cast<std::chrono::seconds>(settings.attempt_timeout)) +
          ": " + detail + kQuayMayWaitOnIssuer);
    case TransportError::Kind::kResolve:
      return failed("cannot resolve " + where + ": " + detail);
    case TransportError::Kind::kConnect:
      return failed("cannot connect to " + where + ": " + detail);
    case TransportError::Kind::kTooLarge:
      return failed(where + " sent an oversized answer (" + detail + "); is this host Quay?");
    case TransportError::Kind::kAborted:  // a long-running command is stopping
      return failed("gave up waiting for " + where + ": this process is stopping");
    case TransportError::Kind::kProtocol:
    case TransportError::Kind::kOther:
      break;
  }
  return failed("request to " + where + " failed: " + detail);
}

QuayToken token_from_answer(const HttpResponse& response, const Identity& identity,
                            const Clock& clock) {
  const std::string where = "Quay at " + identity.quay_host;
  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    throw Failure(
        ExitCode::kLookupFailed,
        where + " answered HTTP 200 with " +
            (body.is_discarded() ? describe_body(response) : "JSON that is not an object") +
            "; is this host Quay's web host?");
  }
  const auto token = body.find("token");
  if (token == body.end() || !token->is_string() || token->get_ref<const std::string&>().empty()) {
    throw Failure(ExitCode::kLookupFailed,
                  where + " answered HTTP 200 without a \"token\"; is this host Quay?");
  }
  QuayToken result;
  result.value = token->get<std::string>();
  const auto claims = decode_jwt_claims(result.value);
  if (!claims) {
    throw Failure(
        ExitCode::kLookupFailed,
        where + " returned a token that is not a JWT; robot federation tokens always are");
  }
  using std::chrono::seconds;
  using std::chrono::system_clock;
  result.issued_at = claims->iat;
  if (claims->exp && claims->iat) {
    // Both on Quay's clock: its lifetime is right whatever the node's clock says.
    result.lifetime = seconds(
        std::clamp<std::int64_t>(*claims->exp - *claims->iat, 0, kQuayTokenLifetime.count() * 24));
  }
  if (claims->exp) {
    result.expires_at = from_unix_seconds(*claims->exp);
  } else {
    // Quay's lifetime is fixed at one hour; without exp, count it from iat or from now.
    const auto issued = claims->iat ? from_unix_seconds(*claims->iat) : clock.now();
    result.expires_at = issued + kQuayTokenLifetime;
    result.expiry_assumed = true;
  }
  return result;
}

bool is_retryable(const TransportError& error) {
  switch (error.kind) {
    case TransportError::Kind::kResolve:
    case TransportError::Kind::kConnect:
    case TransportError::Kind::kTimeout:
    case TransportError::Kind::kTlsInterrupted:  // a reset in the handshake, as after connect
    case TransportError::Kind::kProtocol:
      return true;
    case TransportError::Kind::kCertificate:  // a certificate does not fix itself
    case TransportError::Kind::kProxyCertificate:
    case TransportError::Kind::kNotTls:
    case TransportError::Kind::kTlsVersion:
    case TransportError::Kind::kTls:
    case TransportError::Kind::kNoDescriptors:
    case TransportError::Kind::kTooLarge:  // nor does an oversized answer
    case TransportError::Kind::kAborted:   // the caller asked for the end
    case TransportError::Kind::kOther:
      return false;
  }
  return false;
}

// Quay's 400 and 401 are final answers about configuration; only overload and outages retry.
// Quay's 500 is mostly permanent (issuer unreachable, unknown kid, non-RSA key) and costs it a
// discovery and JWKS fetch each time: retried once, where 502/503/504 and 429 get the backoff.
bool is_retryable(long status, int earlier_500s) {
  if (status == 500) {
    return earlier_500s == 0;
  }
  return status == 429 || status > 500;
}

Failure deadline_failure(const Identity& identity, const ExchangeSettings& settings,
                         const std::string& detail) {
  return {
      ExitCode::kLookupFailed,
      "Quay at " + identity.quay_host + " did not answer within the deadline (" +
          settings.names(Setting::kTimeout) + " " +
          format_human(std::chrono::duration_cast<std::chrono::seconds>(settings.total_timeout)) +
          "): " + detail + kQuayMayWaitOnIssuer};
}

}  // namespace qcp::quay

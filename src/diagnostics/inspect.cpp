#include "qcp/diagnostics/inspect.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/diagnostics/namespace.hpp"

namespace qcp::diagnostics {
namespace {

// Quay's leeway for exp and iat (JWT_CLOCK_SKEW_SECONDS); it never checks nbf.
constexpr std::int64_t kQuayLeewaySeconds = 30;
constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

// Claims come from the token's author: each on one printable line of bounded length.
std::string printable(std::string_view text) {
  constexpr std::size_t kMaxLength = 300;
  return one_line(text.substr(0, kMaxLength)) + (text.size() > kMaxLength ? "..." : "");
}

std::string relative(std::int64_t seconds, std::int64_t now) {
  const auto delta = seconds - now;
  const auto text = format_human(std::chrono::seconds(delta < 0 ? -delta : delta));
  return delta < 0 ? text + " ago" : "in " + text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + printable(item);
  }
  return out;
}

std::string issuer_host(std::string_view issuer) {
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (issuer.starts_with(scheme)) {
      issuer.remove_prefix(scheme.size());
      break;
    }
  }
  issuer = issuer.substr(0, issuer.find_first_of("/?#"));
  if (const auto at = issuer.rfind('@'); at != std::string_view::npos) {
    issuer.remove_prefix(at + 1);
  }
  if (issuer.starts_with('[')) {
    return std::string(issuer.substr(1, issuer.find(']') - 1));
  }
  return std::string(issuer.substr(0, issuer.find(':')));
}

bool is_private_address(const std::string& host) {
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, host.c_str(), bytes.data()) == 1) {
    const unsigned a = bytes[0];
    const unsigned b = bytes[1];
    return a == 10 || a == 127 || (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) ||
           (a == 169 && b == 254) || a == 0;
  }
  if (inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1) {
    const bool loopback =
        std::all_of(bytes.begin(), bytes.end() - 1, [](auto v) { return v == 0; }) &&
        bytes[15] == 1;
    return loopback || (bytes[0] & 0xfeU) == 0xfc ||
           (bytes[0] == 0xfe && (bytes[1] & 0xc0U) == 0x80);
  }
  return false;
}

}  // namespace

namespace {

std::string lower_host(std::string_view issuer) {
  std::string host = issuer_host(issuer);
  for (auto& c : host) {
    c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (host.ends_with('.')) {
    host.pop_back();
  }
  return host;
}

bool ends_with_label(const std::string& host, std::string_view suffix) {
  return host == suffix.substr(1) || host.ends_with(suffix);
}

}  // namespace

bool is_cluster_internal_issuer(std::string_view issuer) {
  const std::string host = lower_host(issuer);
  return host.empty() || host == "kubernetes" || host == "kubernetes.default" ||
         ends_with_label(host, ".svc") || ends_with_label(host, ".cluster.local");
}

bool is_local_or_private_issuer(std::string_view issuer) {
  const std::string host = lower_host(issuer);
  return ends_with_label(host, ".localhost") || is_private_address(host);
}

// Dates as decode_jwt_claims bounds them, whoever built the claims: every sum and difference
// below stays far inside int64.
std::optional<std::int64_t> bounded(std::optional<std::int64_t> date) {
  constexpr std::int64_t kLimit = 1'000'000'000'000'000;
  if (date) {
    *date = std::clamp(*date, -kLimit, kLimit);
  }
  return date;
}

TokenInspection inspect_token(const JwtClaims& raw_claims, std::string_view robot,
                              std::chrono::system_clock::time_point now) {
  JwtClaims claims = raw_claims;
  claims.exp = bounded(claims.exp);
  claims.iat = bounded(claims.iat);
  claims.nbf = bounded(claims.nbf);
  TokenInspection result;
  const std::int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto refuse = [&result](std::string why) { result.refusals.push_back(std::move(why)); };
  auto warn = [&result](std::string why) { result.warnings.push_back(std::move(why)); };
  std::string& out = result.text;
  auto line = [&out](std::string_view label, const std::string& value) {
    out += std::string(label) + std::string(12 - std::min<std::size_t>(label.size(), 11), ' ') +
           value + "\n";
  };

  line("issuer:", claims.iss.empty() ? "(none)" : printable(claims.iss));
  line("subject:", claims.sub.empty() ? "(none)" : printable(claims.sub));
  line("audiences:", claims.aud.empty() ? "(none)" : joined(claims.aud));
  if (claims.iat)
    line("issued:", rfc3339(*claims.iat) + " (" + relative(*claims.iat, now_seconds) + ")");
  if (claims.nbf)
    line("not before:", rfc3339(*claims.nbf) + " (Quay never checks nbf)");
  line("expires:", claims.exp
                       ? rfc3339(*claims.exp) + " (" + relative(*claims.exp, now_seconds) + ")"
                       : "(none)");
  line("signed:", (claims.alg.empty() ? "(no alg)" : printable(claims.alg)) +
                      (claims.kid.empty() ? ", no key id" : ", key id " + printable(claims.kid)));
  const auto& k8s = claims.kubernetes;
  if (!k8s.service_account.empty()) {
    line("account:", printable(k8s.namespace_name) + "/" + printable(k8s.service_account) +
                         (k8s.service_account_uid.empty()
                              ? ""
                              : " (uid " + printable(k8s.service_account_uid) + ")"));
  }
  if (!k8s.pod.empty()) {
    line("pod:", printable(k8s.namespace_name) + "/" + printable(k8s.pod) +
                     (k8s.node.empty() ? "" : " on node " + printable(k8s.node)));
  }

  // Quay's checks, in its order (docs: shared reference, quay-federation.md §4).
  if (claims.iss.empty()) {
    refuse("the token has no iss claim (Quay: \"Token does not contain issuer\")");
  } else if (!claims.iss.starts_with("https://")) {
    refuse(
        "the issuer is not an https:// URL: Quay fetches <issuer>/.well-known/"
        "openid-configuration over HTTPS only");
  } else if (is_cluster_internal_issuer(claims.iss)) {
    refuse("the issuer " + printable(claims.iss) +
           " is a name that resolves only inside a cluster: Quay cannot fetch its discovery "
           "document and keys. Set the API server's --service-account-issuer to an HTTPS URL "
           "that Quay can reach and that serves them (docs/kind.md)");
  } else if (is_local_or_private_issuer(claims.iss)) {
    warn("the issuer " + printable(claims.iss) +
         " is a loopback or private address: Quay must be able to reach it (Quay has no address "
         "filter, but from Quay's host loopback is Quay itself)");
  }
  if (claims.kid.empty()) {
    refuse("the token header has no kid (Quay: \"Invalid token: Missing `kid` header\")");
  }
  if (!claims.alg.empty() && claims.alg != "RS256" && claims.alg != "RS384") {
    refuse("the token is signed with " + printable(claims.alg) +
           ": Quay verifies RSA signatures (RS256, RS384) only; the API server's "
           "service-account signing key must be RSA");
  }
  if (!claims.exp) {
    refuse("the token has no exp claim (Quay: \"Token is missing the \\\"exp\\\" claim\")");
  } else if (*claims.exp + kQuayLeewaySeconds < now_seconds) {
    refuse("the token expired " + relative(*claims.exp, now_seconds) +
           " (the kubelet requests a fresh one for every lookup; for a manual test create a new "
           "one)");
  }
  if (!claims.iat) {
    refuse("the token has no iat claim, which Quay requires");
  } else if (*claims.iat > now_seconds + kQuayLeewaySeconds) {
    refuse("the token is issued " + relative(*claims.iat, now_seconds) +
           ": this machine's clock and the API server's disagree");
  }
  if (claims.sub.empty()) {
    refuse("the token has no sub claim: a federation binding matches issuer and subject");
  }

  // The binding that accepts this token: exactly these strings, nothing normalised.
  std::string org = "<org>";
  std::string name = "<robot>";
  if (const auto plus = robot.find('+'); plus != std::string_view::npos) {
    org = std::string(robot.substr(0, plus));
    name = std::string(robot.substr(plus + 1));
  }
  out += "\nQuay federation binding for robot " + org + "+" + name +
         " (Quay UI: the robot account's \"Set robot federation\"):\n";
  line("  issuer:", printable(claims.iss));
  line("  subject:", printable(claims.sub));
  line("  audiences:",
       "none: Quay's API drops an \"audiences\" key and its UI has no field, so a binding "
       "made there checks none; from 3.18, audiences stored in Quay's database are checked");
  // Quay's field order; dump() escapes whatever the claims hold.
  auto json_string = [](const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  };
  const std::string body =
      "[{\"issuer\":" + json_string(claims.iss) + ",\"subject\":" + json_string(claims.sub) + "}]";
  out +=
      "or by API, with an OAuth token that has org:admin (the body replaces all bindings):\n"
      "  POST /api/v1/organization/" +
      org + "/robots/" + name + "/federation\n  " + body + "\n";
  // kubectl create token without --audience gives the API server's own audiences.
  if (std::any_of(claims.aud.begin(), claims.aud.end(), [](const std::string& audience) {
        return audience.find("kubernetes.default.svc") != std::string::npos;
      })) {
    out +=
        "note: an audience is the API server's own: was the token created without --audience? "
        "The kubelet requests tokenAttributes.serviceAccountTokenAudience (e.g. quay)\n";
  }
  if (!claims.sub.empty() && !claims.sub.starts_with(kServiceAccountPrefix)) {
    out +=
        "note: the subject is not system:serviceaccount:<namespace>:<name>; the kubelet "
        "sends service-account tokens\n";
  }

  out += "\n";
  for (const auto& why : result.warnings) {
    out += "warning: " + why + "\n";
  }
  for (const auto& why : result.refusals) {
    out += "problem: " + why + "\n";
  }
  out += result.refusals.empty()
             ? "Quay can accept this token once the binding above exists and Quay can reach the "
               "issuer's discovery document and keys.\n"
             : "Quay would refuse this token.\n";
  return result;
}

}  // namespace qcp::diagnostics

#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/jwt.hpp"
#include "qcp/diagnostics/namespace.hpp"

namespace qcp::diagnostics {

// What `quay-credential-provider inspect` prints about a service-account token: its claims, the
// Quay federation binding that accepts it, and what would make Quay refuse it. Built from the
// decoded claims only, so no byte of the token itself can reach the output.
struct TokenInspection {
  std::string text;                   // the report, several lines
  std::vector<std::string> refusals;  // reasons Quay would refuse the token (also in text)
  std::vector<std::string> warnings;  // what may stop it, depending on the network (also in text)
};

// robot: "org+name" to fill in the binding's REST path, or empty for placeholders.
TokenInspection inspect_token(const JwtClaims& claims, std::string_view robot,
                              std::chrono::system_clock::time_point now);

// Whether the issuer's host is a name that resolves only inside a cluster
// (kubernetes.default.svc, *.svc, *.cluster.local): Quay cannot reach it.
bool is_cluster_internal_issuer(std::string_view issuer);

// Whether the issuer is on localhost, a loopback, private or link-local address: Quay (which has
// no address filter) reaches it only if it shares that network.
bool is_local_or_private_issuer(std::string_view issuer);

}  // namespace qcp::diagnostics

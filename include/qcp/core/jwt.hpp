#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qcp::core {

// Claims read from a JWT without verifying it: we only need Quay's `exp` for caching and the
// service-account token's metadata for logs. Verification is Quay's job.
struct JwtClaims {
  // Header.
  std::string alg;
  std::string kid;
  // Payload.
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> iat;
  std::optional<std::int64_t> nbf;
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;
  // The "kubernetes.io" claim of a service-account token: who it was issued to.
  struct Kubernetes {
    std::string namespace_name;
    std::string service_account;
    std::string service_account_uid;
    std::string pod;
    std::string pod_uid;
    std::string node;
  };
  Kubernetes kubernetes{};
};

// base64 (RFC 4648 §4), padded: what HTTP Basic and docker's "auth" use.
std::string base64_encode(std::string_view bytes);

// base64url (RFC 4648 §5), padding optional; nullopt on any invalid character or length.
std::optional<std::string> base64url_decode(std::string_view text);
// base64 (RFC 4648 §4), the same way: a kubeconfig's *-data fields.
std::optional<std::string> base64_decode(std::string_view text);

// nullopt unless the text is header.payload.signature with JSON-object header and payload.
std::optional<JwtClaims> decode_jwt_claims(std::string_view token);

}  // namespace qcp::core

#pragma once
// Real RS256 JWTs for tests: an RSA-2048 signer with a JWK, a verifier, and Kubernetes
// service-account token claims.

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace qcp::test {

// RFC 4648 §5, unpadded.
std::string base64url_encode(std::string_view data);
// Accepts unpadded or padded input; nullopt on any character outside the url-safe alphabet.
std::optional<std::string> base64url_decode(std::string_view text);
// RFC 4648 §4, padded (what HTTP Basic uses).
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

// A compact JWS split into its parts; nothing is verified.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json moves do not throw in practice
struct DecodedJwt {
  nlohmann::json header;      // always an object
  nlohmann::json payload;     // always an object
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};
std::optional<DecodedJwt> decode_jwt_unverified(std::string_view token);

class RsaSigner {
 public:
  // A fresh RSA-2048 key. The default kid is base64url(SHA-256(DER public key)), as the
  // kube-apiserver derives it; pass one to control it (e.g. a second key with the same kid).
  RsaSigner();
  explicit RsaSigner(std::string kid);

  // The committed test keys (test_keys.cpp), read once per process: RSA-2048 generation costs
  // ~0.1 s of CPU, and every FakeQuay needs two distinct keys. Tests that need a key no other
  // signer has construct one.
  enum class SharedKey { kIssuer, kQuayInstance };
  static RsaSigner shared(SharedKey which);

  // Copies share the (immutable) key.
  RsaSigner(const RsaSigner&) = default;
  RsaSigner& operator=(const RsaSigner&) = default;
  RsaSigner(RsaSigner&&) noexcept = default;
  RsaSigner& operator=(RsaSigner&&) noexcept = default;
  ~RsaSigner() = default;

  [[nodiscard]] const std::string& kid() const { return kid_; }
  // The key's libtrust fingerprint, the "kid" docker/distribution looks tokens' keys up by:
  // SHA-256 of the DER public key, the first 240 bits in base32, 12 groups of 4 joined by ':'.
  [[nodiscard]] std::string libtrust_key_id() const;
  // A self-signed certificate (PEM) for the key, valid from an hour ago for a day: what a
  // registry's auth.token.rootcertbundle holds to trust tokens this key signs.
  [[nodiscard]] std::string self_signed_certificate_pem(const std::string& common_name) const;

  // Header = {"alg":"RS256","typ":"JWT","kid":kid()} updated with header_extra; a null value in
  // header_extra removes that member (e.g. {{"kid", nullptr}} for a token without kid). The
  // signature is RS384 when "alg" says so, RS256 whatever else it says.
  [[nodiscard]] std::string sign(const nlohmann::json& header_extra,
                                 const nlohmann::json& claims) const;
  [[nodiscard]] std::string sign(const nlohmann::json& claims) const {
    return sign(nlohmann::json::object(), claims);
  }

  // {"kty":"RSA","use":"sig","alg":"RS256","kid":...,"n":...,"e":...}
  [[nodiscard]] nlohmann::json jwk() const;
  // {"keys":[jwk()]}
  [[nodiscard]] nlohmann::json jwks() const;

  // Checks alg (RS256 or RS384) and the signature; returns the payload. Does NOT check kid or any
  // claim (exp, iss, ...): callers do that.
  static std::optional<nlohmann::json> verify(std::string_view token, const nlohmann::json& jwk);
  static std::optional<nlohmann::json> verify(std::string_view token, const RsaSigner& signer);

 private:
  RsaSigner(std::shared_ptr<evp_pkey_st> key, std::string kid);  // takes a key as it is

  std::shared_ptr<evp_pkey_st> key_;
  std::string kid_;
};

// Claims of a projected Kubernetes service-account token (as the kubelet passes to a credential
// provider): iss, sub "system:serviceaccount:<ns>:<sa>", aud, exp/iat/nbf, jti and the
// "kubernetes.io" object (namespace, node, pod{name,uid}, serviceaccount{name,uid}).
struct ServiceAccountTokenSpec {
  std::string issuer;
  std::string ns = "default";
  std::string service_account = "default";
  std::vector<std::string> audiences{"quay"};
  std::chrono::seconds lifetime{3600};
  // iat/nbf; default now. exp = issued_at + lifetime.
  std::optional<std::chrono::system_clock::time_point> issued_at;
  std::string pod_name = "app-5d8f7c9b4-x2k7q";
  std::string node_name = "worker-1";
};
nlohmann::json service_account_claims(const ServiceAccountTokenSpec& spec);
std::string mint_service_account_token(const RsaSigner& signer,
                                       const ServiceAccountTokenSpec& spec);

// Seconds since the epoch.
std::int64_t unix_seconds(std::chrono::system_clock::time_point t);

}  // namespace qcp::test

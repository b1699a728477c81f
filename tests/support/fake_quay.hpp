#pragma once
// FakeQuay: a fake Quay + OIDC issuer over real HTTPS (TLS 1.2+) on loopback, for integration
// and end-to-end tests. GET /oauth2/federation/robot/token follows the Quay federation reference
// (quay-federation.md §3, §4, §7, rows observed by running Quay): same validation order,
// statuses and bodies, Quay 3.13-3.17 by default and 3.18 (binding audiences, checked before the
// subject) with FakeQuayOptions::quay_3_18. RS256 and RS384; an ES* token is a 500 (an EC key in
// the JWKS); nbf is never checked; /v2/auth answers 500 HTML for an expired, unknown-key,
// wrong-audience or over-long robot token.
//
// Routes:
//   GET|HEAD /oauth2/federation/robot/token      the exchange (OPTIONS → 200, others → 405 HTML)
//   GET /issuer/.well-known/openid-configuration  discovery of the fake's own issuer
//   GET /issuer/keys                               its JWKS
//   GET /v2/auth?service=..&scope=repository:ns/repo:pull,push   Docker token endpoint (Basic
//       robot:token): a registry bearer JWT a real docker/distribution registry verifies
//   GET /v2/                                       401 + WWW-Authenticate: Bearer realm=.../v2/auth
//   anything else                                  404 HTML
//
// Differences from a real Quay, by design:
//  - Issuer keys are looked up in-process (add_issuer) instead of fetching
//    <iss>/.well-known/openid-configuration and jwks_uri on every exchange. A bound but
//    unregistered issuer behaves like failed discovery (500); an unknown kid is 500 as in Quay.
//    The missing-`kid` check (400) runs before "discovery", as in Quay.
//  - JSON bodies are Flask's jsonify output: compact, sorted keys, trailing "\n".
//  - /v2/auth only knows Quay-issued robot tokens (no static robot tokens); its errors use the
//    Docker registry format {"errors":[{"code","message","detail"}]}; a scope outside the
//    robot's own namespace gets 403 DENIED.
//
// The transport (TLS, HTTP/1.1, recording, fault actions, handshake faults, the handler in front)
// is LoopbackHttpsServer's; this class is the Quay (and issuer) behaviour it serves.
// Thread-safe, as LoopbackHttpsServer.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "https_server.hpp"
#include "jwt.hpp"
#include "pki.hpp"

namespace qcp::test {

// The robot most tests federate as (a test that means another names it).
inline constexpr const char* kRobot = "team+puller";

struct FederationBinding {
  FederationBinding(std::string issuer_url, std::string subject_name,
                    std::vector<std::string> audience_list = {})
      : issuer(std::move(issuer_url)),
        subject(std::move(subject_name)),
        audiences(std::move(audience_list)) {}

  std::string issuer;                  // compared exactly with the token's iss
  std::string subject;                 // compared exactly with the token's sub
  std::vector<std::string> audiences;  // enforced only with FakeQuayOptions::quay_3_18
};

struct FakeQuayOptions {
  bool ipv6 = false;       // listen on [::1] instead of 127.0.0.1
  std::uint16_t port = 0;  // 0: ephemeral
  std::chrono::seconds token_lifetime{3600};
  std::string server_hostname;           // SERVER_HOSTNAME (aud of issued tokens); default host()
  bool quay_3_18 = false;                // enforce binding audiences (nbf is never checked)
  std::chrono::seconds clock_offset{0};  // the fake's clock = system clock + offset
  std::chrono::seconds clock_skew{30};   // JWT_CLOCK_SKEW_SECONDS: leeway on exp/iat/nbf
  std::chrono::milliseconds io_timeout{10'000};  // per read/write/handshake on a connection
  bool only_tls_1_1 = false;  // speak TLS 1.0/1.1 only, as an outdated server does
  // Keys to reuse (RSA-2048 generation costs ~0.15 s each); default: freshly generated.
  std::optional<RsaSigner> issuer_key;    // the own issuer's signing key
  std::optional<RsaSigner> instance_key;  // Quay's instance service key
  // One line per request ("GET /path 200") and per failed TLS handshake; never contains the
  // query, headers or credentials. Called from server threads, possibly concurrently.
  std::function<void(const std::string&)> log;
};

class FakeQuay final : public LoopbackHttpsServer {
 public:
  using Options = FakeQuayOptions;

  // Binds, listens and starts serving before returning; `pki` is only read here. Throws
  // std::runtime_error on failure (e.g. no IPv6 loopback, port in use).
  explicit FakeQuay(const TestPki& pki, FakeQuayOptions options = {});
  FakeQuay(const FakeQuay&) = delete;
  FakeQuay& operator=(const FakeQuay&) = delete;
  FakeQuay(FakeQuay&&) = delete;
  FakeQuay& operator=(FakeQuay&&) = delete;
  ~FakeQuay() override;

  [[nodiscard]] std::string issuer_url() const;  // base_url() + "/issuer"
  [[nodiscard]] std::string server_hostname() const;

  // --- identities ---------------------------------------------------------------------------
  // The fake's own OIDC issuer key (registered for issuer_url()).
  [[nodiscard]] const RsaSigner& issuer_signer() const;
  // The "instance service key" that signs issued robot tokens (header kid = its kid).
  [[nodiscard]] const RsaSigner& instance_signer() const;
  // /v2/auth issues Docker registry bearer tokens (docker/distribution's token spec) a real
  // registry can verify: iss registry_token_issuer(), aud the requested service (default
  // registry_service()), access = the requested actions the robot has (pull in its own
  // namespace; push too once allowed), signed by instance_signer() with its libtrust kid.
  // A registry's auth.token.rootcertbundle holds registry_token_certificate_pem().
  void allow_push(const std::string& robot);
  [[nodiscard]] std::string registry_service() const;
  [[nodiscard]] std::string registry_token_issuer() const;
  [[nodiscard]] std::string registry_token_certificate_pem() const;
  // A Kubernetes SA token from the fake's own issuer.
  [[nodiscard]] std::string mint_service_account_token(
      const std::string& ns, const std::string& service_account,
      const std::string& audience = "quay",
      std::chrono::seconds lifetime = std::chrono::seconds{3600}) const;
  // Trust tokens with iss == url signed by signer (adds a key; same kid replaces). Keys of
  // issuers under base_url() are also served by discovery/JWKS routes at that path.
  void add_issuer(const std::string& url, const RsaSigner& signer);
  // Create or replace a robot ("org+name"). Empty bindings: no federated login configured.
  void add_robot(const std::string& name, std::vector<FederationBinding> bindings);
  void remove_robot(const std::string& name);

  // --- fault injection ----------------------------------------------------------------------
  // Queue replies for the federation endpoint; each request there consumes one before the
  // default logic runs (requests to other paths do not consume). set_handler's handler, for
  // any path, runs before these.
  void script(std::vector<Reply> replies);
  void push_reply(Reply reply);
  [[nodiscard]] std::size_t pending_replies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test

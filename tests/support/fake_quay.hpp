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
// Thread-safe: every member function may be called from any thread while requests are served.
// The destructor stops the server promptly (all waits watch a stop eventfd), even with
// connections hanging, streaming or stalled in the handshake; it joins every thread.

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

#include "jwt.hpp"
#include "pki.hpp"

namespace qcp::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::uint64_t connection = 0;  // 1-based TCP connection number (same number = keep-alive reuse)
  std::string peer;              // "127.0.0.1:53124" / "[::1]:53124"
  std::string method;
  std::string target;  // as sent: path + optional "?query"
  std::string path;
  std::string query;    // without '?'
  std::string version;  // "HTTP/1.1"
  HeaderList headers;   // in order, names as sent
  std::size_t body_bytes = 0;
  // Decoded from "Authorization: Basic ..." when it decodes and contains ':'.
  std::optional<std::string> basic_user;
  std::optional<std::string> basic_password;
  int status = 0;  // status of the reply chosen; 0 for hang/reset/close actions

  // First header with that name, case-insensitive.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

struct Reply {
  enum class Action {
    kRespond,               // send status, headers and body
    kHang,                  // send nothing until hang_limit, client close or server destruction
    kHangAfterHeaders,      // send status line + headers (with Content-Length), then hang
    kReset,                 // close the TCP connection with RST (SO_LINGER 0), no TLS alert
    kCloseWithoutResponse,  // TLS close_notify + FIN, no HTTP response
  };
  Action action = Action::kRespond;
  int status = 200;
  HeaderList headers;  // extra headers, e.g. {"Retry-After","2"}, {"Location","http://..."}
  std::string body;
  // Instead of body: stream this many filler bytes ('A') in 16 KiB chunks, never buffered.
  std::optional<std::size_t> generated_body_bytes;
  // false: omit Content-Length and delimit the body by closing the connection.
  bool content_length = true;
  // Send the body chunked, then this many bytes of trailer lines after the last chunk, streamed.
  std::optional<std::size_t> generated_trailer_bytes;
  std::chrono::milliseconds delay{0};            // wait before acting (interruptible)
  std::chrono::milliseconds hang_limit{60'000};  // bound for kHang / kHangAfterHeaders

  // Body "<json>\n" as Flask's jsonify writes it, Content-Type application/json.
  static Reply json(int status, const nlohmann::json& body, HeaderList headers = {});
  static Reply html(int status, std::string body, HeaderList headers = {});
  static Reply text(int status, std::string body, HeaderList headers = {});
  static Reply hang(std::chrono::milliseconds limit = std::chrono::milliseconds{60'000});
  static Reply reset();
  static Reply close_without_response();
  // 200 application/json with `bytes` filler bytes.
  static Reply huge(std::size_t bytes, bool with_content_length = true);
  // 200 with a chunked JSON body followed by `bytes` of trailer lines ("X-Filler-N: aaa...").
  static Reply endless_trailers(std::size_t bytes);
};

enum class HandshakeFault {
  kReset,      // RST (SO_LINGER 0)
  kClose,      // FIN without a word
  kPlainHttp,  // a plain HTTP/1.1 400 answer, as an HTTP server on the port would send
};

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

class FakeQuay {
 public:
  using Options = FakeQuayOptions;
  using Handler = std::function<std::optional<Reply>(const RecordedRequest&)>;

  // Binds, listens and starts serving before returning; `pki` is only read here. Throws
  // std::runtime_error on failure (e.g. no IPv6 loopback, port in use).
  explicit FakeQuay(const TestPki& pki, FakeQuayOptions options = {});
  FakeQuay(const FakeQuay&) = delete;
  FakeQuay& operator=(const FakeQuay&) = delete;
  FakeQuay(FakeQuay&&) = delete;
  FakeQuay& operator=(FakeQuay&&) = delete;
  ~FakeQuay();

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string host() const;        // "127.0.0.1:PORT" / "[::1]:PORT"
  [[nodiscard]] std::string base_url() const;    // "https://" + host()
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
  // default logic runs (requests to other paths do not consume).
  void script(std::vector<Reply> replies);
  void push_reply(Reply reply);
  [[nodiscard]] std::size_t pending_replies() const;
  // Called for every request (any path) before the script; nullopt falls through. Called
  // without internal locks held, so it may call FakeQuay members. Empty function: none.
  void set_handler(Handler handler);
  // true: accept TCP connections but never start TLS (for connect-vs-handshake timeout tests).
  void set_stall_handshakes(bool stall);
  // The next `connections` connections: read the ClientHello, then do `fault` instead of TLS.
  void fail_handshakes(HandshakeFault fault, std::size_t connections = 1);

  // --- observation ---------------------------------------------------------------------------
  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  void clear_requests();
  // Waits (without sleeping blindly) until at least n requests were recorded in total since
  // the last clear_requests(); false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  [[nodiscard]] std::size_t connections_accepted() const;
  [[nodiscard]] std::size_t handshakes_attempted() const;
  [[nodiscard]] std::size_t handshakes_completed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test

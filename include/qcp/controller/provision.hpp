#pragma once

// One annotated ServiceAccount made right: a TokenRequest for it, the exchange at Quay, a
// kubernetes.io/dockerconfigjson Secret it owns, and the Secret's name among its
// imagePullSecrets. The controller's loops (watching, renewing, retrying) call this.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/controller/namespace.hpp"
#include "qcp/controller/policy_file.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/log.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/identity.hpp"

namespace qcp::controller {

// What marks a Secret as ours, and what it says about itself.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedBy = "quay-credential-provider";
inline constexpr std::string_view kServiceAccountLabel = "quay-credential-provider/service-account";
inline constexpr std::string_view kRobotKey = "quay-credential-provider/robot";
inline constexpr std::string_view kExpiresKey = "quay-credential-provider/expires";
// On the ServiceAccount: the Secret's name when the default does not suit.
inline constexpr std::string_view kSecretNameAnnotation = "quay-credential-provider/secret-name";

struct ProvisionSettings {
  std::string quay_host;                   // --quay-host: where tokens go
  std::string registry;                    // --registry: the Secret's auths key ("": quay_host)
  std::vector<std::string> allowed_hosts;  // --allowed-host: what quay.io/host may pick
  std::string audience = "quay";           // --audience
  // The least the API server grants (kube-api/04b): the token is spent at once.
  std::chrono::seconds token_lifetime{600};
  std::chrono::milliseconds api_timeout{30000};
  int write_attempts = 4;  // a Secret or ServiceAccount write that meets 409 is read and retried
  // --policy: which robots each ServiceAccount may use or gets by default, and which Quay hosts
  // its tokens may go to (nullptr: the annotation alone picks the robot).
  std::shared_ptr<PolicyFile> policy;
};

// What a ServiceAccount asks for (or its policy rule gives it), checked before anything is sent.
struct Wanted {
  // One per robot, one robot per Quay organisation; registry: where its images are named.
  std::vector<Identity> identities;
  std::string secret_name;
  std::string rule;  // "rule 2 (policy.yaml:7)"; "" without a policy
  // "team+puller,other+puller": the Secret's robot annotation.
  [[nodiscard]] std::string robots() const;
  // Where images come from: the Secret's auths key (with one robot), what the evictor matches.
  [[nodiscard]] const std::string& registry() const { return identities.front().registry; }
};

// The policy refuses what the ServiceAccount asks for: it gets no Secret (one it had is removed).
class NotAllowed : public Failure {
 public:
  explicit NotAllowed(const std::string& message) : Failure(ExitCode::kUsage, message) {}
};

// nullopt when the ServiceAccount asks for nothing: no robot annotation, and no policy default.
// Throws Failure (kUsage) naming the ServiceAccount and what is wrong with its annotations,
// NotAllowed for what the policy refuses.
std::optional<Wanted> wanted_for(const ServiceAccount& account, const ProvisionSettings& settings);

struct Provisioned {
  std::string secret_name;
  std::chrono::microseconds exchange_took{0};  // the exchange at Quay, retries included
  RobotCredential credential;  // its token is wiped: what is left says when it expires
  std::string secret_sha256;   // Secret::dockerconfigjson_sha256 of what was written
  bool secret_created = false;
  bool reference_added = false;
};

// A TokenRequest for the ServiceAccount itself (audience settings.audience, the least lifetime):
// the identity Quay's federation binding trusts. Throws Failure naming the ServiceAccount.
std::string service_account_token(ApiClient& api, const ServiceAccount& account,
                                  const ProvisionSettings& settings);

// Where a provisioning stopped, for metrics and Events: the API server's TokenRequest, Quay's
// exchange, or a write of the Secret or the ServiceAccount.
enum class ProvisionStep { kTokenRequest, kExchange, kWrite };

class ProvisionFailure : public Failure {
 public:
  ProvisionFailure(const Failure& failure, ProvisionStep step, std::chrono::microseconds took,
                   bool quay_unavailable = false)
      : Failure(failure.code(), failure.what()),
        step_(step),
        exchange_took_(took),
        quay_unavailable_(quay_unavailable) {}
  [[nodiscard]] ProvisionStep step() const { return step_; }
  // How long the exchange took before it failed (0 unless step() is kExchange).
  [[nodiscard]] std::chrono::microseconds exchange_took() const { return exchange_took_; }
  // The exchange failed because Quay was unavailable (ExchangeFailure::quay_unavailable).
  [[nodiscard]] bool quay_unavailable() const { return quay_unavailable_; }

 private:
  ProvisionStep step_;
  std::chrono::microseconds exchange_took_;
  bool quay_unavailable_;
};

// TokenRequest -> exchange -> Secret created or updated -> imagePullSecrets. Every step under
// `settings.api_timeout` or the exchange's own deadline. The Secret's write is conditional on
// the version the informer holds (`cached`: the Secret as last seen, nullopt when there was
// none), without a read; 409 or 404: read, and written again, at most write_attempts times.
// Throws ProvisionFailure with one line: the API server's or Quay's own words, never a token.
Provisioned provision(ApiClient& api, HttpClient& quay_http, const ServiceAccount& account,
                      const std::optional<Secret>& cached, const ProvisionSettings& settings,
                      ExchangeSettings exchange, const Clock& clock, Log& log);

// Adds `secret_name` to the ServiceAccount's imagePullSecrets unless it is there, keeping every
// other entry where it is (conditional on the version read; 409: read again). True when added.
bool ensure_reference(ApiClient& api, const ServiceAccount& account, const std::string& secret_name,
                      const ProvisionSettings& settings);

// Undoes provision for one of our Secrets (the annotation removed, the Secret renamed): the
// Secret deleted if it is still ours (conditional on its version; 409: read again), then its
// name taken out of the ServiceAccount's imagePullSecrets if the ServiceAccount is still there.
// Returns the ServiceAccount as it is now (nullopt: it is gone). Throws Failure as provision does.
std::optional<ServiceAccount> withdraw(ApiClient& api, const Secret& secret,
                                       const std::string& account_name,
                                       const ProvisionSettings& settings);

}  // namespace qcp::controller

#include "qcp/controller/provision.hpp"

#include <algorithm>

#include "controller/api_calls.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/account_robots.hpp"
#include "qcp/quay/credential_formats.hpp"
#include "qcp/quay/exchange.hpp"

namespace qcp::controller {
namespace {

// The Secret's .dockerconfigjson: one robot under the registry's key; several each under
// "registry/organisation/", which the kubelet matches by path prefix, so each robot serves only
// its own organisation's images (the slash keeps "team" from matching "team2").
std::string docker_config_of(const std::vector<RobotCredential>& credentials) {
  if (credentials.size() == 1) {
    return merged_auth_file(std::nullopt, credentials.front());
  }
  std::optional<std::string> config;
  for (RobotCredential scoped : credentials) {
    const WipeOnExit wipe_token(scoped.token);
    scoped.registry += "/" + std::string(quay::organisation_of(scoped.robot)) + "/";
    std::string next = merged_auth_file(config, scoped);
    if (config) {
      wipe(*config);
    }
    config = std::move(next);
  }
  return std::move(*config);
}

std::chrono::microseconds took_since(std::chrono::steady_clock::time_point started,
                                     const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.monotonic() - started);
}

SecretSpec secret_spec(const ServiceAccount& account, const Wanted& wanted,
                       const std::vector<RobotCredential>& credentials,
                       std::chrono::system_clock::time_point expires_at) {
  const auto expires =
      std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch());
  return {.name = wanted.secret_name,
          .namespace_name = account.meta.namespace_name,
          .labels = {{std::string(kManagedByLabel), std::string(kManagedBy)},
                     {std::string(kServiceAccountLabel), account.meta.name}},
          .annotations = {{std::string(kRobotKey), wanted.robots()},
                          {std::string(kExpiresKey), rfc3339(expires.count())}},
          .owner = {.api_version = "v1",
                    .kind = "ServiceAccount",
                    .name = account.meta.name,
                    .uid = account.meta.uid,
                    .controller = true},
          .dockerconfigjson = docker_config_of(credentials),
          .resource_version = ""};
}

// The robots' credentials, minted in turn under the one deadline; their tokens wiped with it.
struct Minted {
  std::vector<RobotCredential> list;
  Minted() = default;
  Minted(const Minted&) = delete;
  Minted& operator=(const Minted&) = delete;
  Minted(Minted&&) = delete;
  Minted& operator=(Minted&&) = delete;
  ~Minted() {
    for (auto& credential : list) {
      wipe(credential.token);
    }
  }
};

// Every robot is minted, or none is written: a Secret missing a robot would leave that
// organisation's pulls without credentials until the next renewal, while the Secret it had
// stays valid until its earliest token expires, and the failure is retried well before.
void mint_all(Minted& minted, HttpClient& quay_http, const Wanted& wanted, const std::string& token,
              const ExchangeSettings& exchange, const Clock& clock, Log& log,
              const ServiceAccount& account) {
  const auto started = clock.monotonic();
  for (const auto& identity : wanted.identities) {
    try {
      minted.list.push_back(mint_credential(quay_http, identity, token, exchange, clock, log));
    } catch (const Failure& failure) {
      const auto* exchange_failure = dynamic_cast<const ExchangeFailure*>(&failure);
      const std::string robot =
          wanted.identities.size() > 1 ? "robot " + identity.robot + ": " : std::string();
      throw ProvisionFailure(Failure(failure.code(), who(account) + ": " + robot + failure.what()),
                             ProvisionStep::kExchange, took_since(started, clock),
                             exchange_failure != nullptr && exchange_failure->quay_unavailable());
    }
  }
}

// The credential that expires first: when the Secret as a whole must be renewed.
RobotCredential earliest(const std::vector<RobotCredential>& credentials) {
  return *std::min_element(credentials.begin(), credentials.end(),
                           [](const RobotCredential& a, const RobotCredential& b) {
                             return a.valid_until < b.valid_until;
                           });
}

// What a write of the Secret goes from: whether it exists, and its version.
struct Known {
  bool exists = false;
  std::string resource_version;
};

// The Secret as the API server has it now. One that is not ours is refused, never overwritten.
Known read_known(ApiClient& api, const ServiceAccount& account, const std::string& name,
                 const ProvisionSettings& settings) {
  const ApiResponse current =
      read(api, secret_path(account.meta.namespace_name, name), settings.api_timeout, who(account));
  const auto secret = current.status == 200 ? decode_secret(current.body) : std::nullopt;
  if (secret && secret->meta.labels.find(kManagedByLabel) == secret->meta.labels.end()) {
    throw Failure(ExitCode::kUsage,
                  who(account) + ": Secret " + name +
                      " exists and is not managed by quay-credential-provider; it is left "
                      "alone: name another with the annotation " +
                      std::string(kSecretNameAnnotation));
  }
  return {.exists = current.status == 200,
          .resource_version = secret ? secret->meta.resource_version : ""};
}

// Creates the Secret, or replaces it conditional on its version; true when created. The first
// write goes from what the informer holds (`cached`, ours by its label, or none), so a renewal
// reads nothing. Only when that was stale (409: written or created since; 404: deleted since) is
// the Secret read and the write tried again from what the API server says (kube-api/05b, 05d).
bool write_secret(ApiClient& api, const ServiceAccount& account, SecretSpec spec,
                  const std::optional<Secret>& cached, const ProvisionSettings& settings) {
  const WipeOnExit wipe_config(spec.dockerconfigjson);
  Known known{.exists = cached.has_value(),
              .resource_version = cached ? cached->meta.resource_version : ""};
  for (int attempt = 1;; ++attempt) {
    spec.resource_version = known.resource_version;
    std::string body = encode_secret(spec);
    const WipeOnExit wipe_body(body);
    const ApiResponse written =
        checked(api,
                {.method = known.exists ? "PUT" : "POST",
                 .path = known.exists ? secret_path(account.meta.namespace_name, spec.name)
                                      : secret_path(account.meta.namespace_name),
                 .body = body,
                 .content_type = "application/json",
                 .timeout = settings.api_timeout},
                {200, 201}, who(account));
    if (written.status == 200 || written.status == 201) {
      return written.status == 201;
    }
    if (attempt >= settings.write_attempts) {
      throw Failure(ExitCode::kLookupFailed,
                    who(account) + ": Secret " + spec.name +
                        " kept changing while it was written: " + api.refused(written).what());
    }
    known = read_known(api, account, spec.name, settings);
  }
}

}  // namespace

std::string service_account_token(ApiClient& api, const ServiceAccount& account,
                                  const ProvisionSettings& settings) {
  ApiResponse answer =
      checked(api,
              {.method = "POST",
               .path = account_path(account) + "/token",
               .body = encode_token_request(settings.audience, settings.token_lifetime),
               .content_type = "application/json",
               .timeout = settings.api_timeout},
              {201}, who(account));
  const WipeOnExit wipe_answer(answer.body);
  if (answer.status != 201) {
    throw Failure(ExitCode::kLookupFailed, who(account) + ": " + api.refused(answer).what());
  }
  auto issued = decode_token_request(answer.body);
  if (!issued) {
    throw Failure(ExitCode::kLookupFailed,
                  who(account) + ": the API server's TokenRequest answer holds no token");
  }
  return std::move(issued->token);
}

bool ensure_reference(ApiClient& api, const ServiceAccount& account, const std::string& name,
                      const ProvisionSettings& settings) {
  ServiceAccount current = account;
  for (int attempt = 1;; ++attempt) {
    auto names = current.image_pull_secrets;
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return false;
    }
    names.push_back(name);
    const ApiResponse patched =
        checked(api,
                {.method = "PATCH",
                 .path = account_path(account),
                 .body = encode_image_pull_secrets_patch(names, current.meta.resource_version),
                 .content_type = "application/merge-patch+json",
                 .timeout = settings.api_timeout},
                {200}, who(account));
    if (patched.status == 200) {
      return true;
    }
    if (patched.status == 404 || attempt >= settings.write_attempts) {
      throw Failure(ExitCode::kLookupFailed,
                    who(account) + ": cannot add " + name +
                        " to its imagePullSecrets: " + api.refused(patched).what());
    }
    const ApiResponse fresh = read(api, account_path(account), settings.api_timeout, who(account));
    auto reread = decode_service_account(fresh.body);
    if (fresh.status != 200 || !reread) {
      throw Failure(ExitCode::kLookupFailed, who(account) + ": it is gone");
    }
    current = std::move(*reread);
  }
}

Provisioned provision(ApiClient& api, HttpClient& quay_http, const ServiceAccount& account,
                      const std::optional<Secret>& cached, const ProvisionSettings& settings,
                      ExchangeSettings exchange, const Clock& clock, Log& log) {
  const auto wanted = wanted_for(account, settings);
  if (!wanted) {
    throw Failure(ExitCode::kUsage, who(account) + ": it names no robot");
  }
  std::string token;
  try {
    token = service_account_token(api, account, settings);
  } catch (const Failure& failure) {
    throw ProvisionFailure(failure, ProvisionStep::kTokenRequest, {});
  }
  const WipeOnExit wipe_token(token);
  const auto started = clock.monotonic();
  exchange.deadline = started + exchange.total_timeout;
  Minted credentials;
  mint_all(credentials, quay_http, *wanted, token, exchange, clock, log, account);
  Provisioned done{.secret_name = wanted->secret_name,
                   .exchange_took = took_since(started, clock),
                   .credential = earliest(credentials.list),
                   .secret_sha256 = {},
                   .secret_created = false,
                   .reference_added = false};
  wipe(done.credential.token);
  done.credential.robot = wanted->robots();
  // The expiry as the API server's clock tells it (ServerClock): the one every replica and
  // every restart reads it back on, whatever this node's wall clock does meanwhile.
  done.credential.expires_at =
      api.server_now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             done.credential.valid_until - clock.monotonic());
  SecretSpec spec = secret_spec(account, *wanted, credentials.list, done.credential.expires_at);
  done.secret_sha256 = dockerconfigjson_digest(spec.dockerconfigjson);
  try {
    done.secret_created = write_secret(api, account, std::move(spec), cached, settings);
    done.reference_added = ensure_reference(api, account, wanted->secret_name, settings);
  } catch (const Failure& failure) {
    throw ProvisionFailure(failure, ProvisionStep::kWrite, {});
  }
  return done;
}

}  // namespace qcp::controller

#include "qcp/controller/reconciler.hpp"

#include <algorithm>

#include "controller/api_calls.hpp"
#include "controller/reasons.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/renewal.hpp"

namespace qcp::controller {
namespace {

// Quay's robot tokens live an hour; a minute more for a writer whose clock ran a little ahead.
constexpr std::chrono::milliseconds kLongestTokenLife =
    kQuayTokenLifetime + std::chrono::minutes{1};

FailureReason failure_reason(const Failure& failure) {
  const auto* provisioning = dynamic_cast<const ProvisionFailure*>(&failure);
  if (provisioning == nullptr) {
    return FailureReason::kApi;  // a read, a withdrawal or a reference: the API server's
  }
  switch (provisioning->step()) {
    case ProvisionStep::kTokenRequest:
      return FailureReason::kTokenRequest;
    case ProvisionStep::kExchange:
      return FailureReason::kExchange;
    case ProvisionStep::kWrite:
      break;
  }
  return FailureReason::kApi;
}

std::string text_of(const std::map<std::string, std::string, std::less<>>& map,
                    std::string_view key) {
  const auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

bool owned_by(const Secret& secret, const std::string& uid) {
  return std::any_of(secret.owners.begin(), secret.owners.end(), [&](const OwnerReference& owner) {
    return owner.kind == "ServiceAccount" && owner.uid == uid;
  });
}

}  // namespace

Reconciler::Reconciler(Parts parts, ProvisionSettings provision, ExchangeSettings exchange,
                       RenewalSettings renewal)
    : parts_(parts),
      provision_(std::move(provision)),
      exchange_(std::move(exchange)),
      renewal_(renewal),
      evictor_(parts_.api, parts_.events, parts_.clock, parts_.log,
               {.api_timeout = provision_.api_timeout, .retry_after = renewal_.retry_cap / 10}),
      outage_(QuayOutage::probe_interval(renewal_.renew_before), parts_.clock.monotonic()) {}

std::optional<Reconciler::TimePoint> Reconciler::reconcile(const std::string& key) {
  const auto account = parts_.account(key);
  if (!account || account->meta.deleting) {
    forget_refusal(key);
    return withdraw_all(key, "the ServiceAccount no longer names a robot");
  }
  std::optional<Wanted> wanted;
  try {
    wanted = wanted_for(*account, provision_);
  } catch (const NotAllowed& refusal) {
    // The policy is the admin's word: what it does not allow loses the Secret it had.
    refused(*account, refusal, kNotAllowedReason);
    return withdraw_all(key, "the policy does not allow what it asks for");
  } catch (const Failure& failure) {
    // Nothing is written or removed for an annotation we cannot act on; told once per problem.
    refused(*account, failure, kInvalidReason);
    return std::nullopt;
  }
  forget_refusal(key);
  if (!wanted) {
    return withdraw_all(key, "the ServiceAccount no longer names a robot");
  }
  return make_right(*account, *wanted);
}

void Reconciler::forget_refusal(const std::string& key) {
  const std::lock_guard lock(mutex_);
  refused_.erase(key);
}

// A Warning Event, once per problem.
void Reconciler::refused(const ServiceAccount& account, const Failure& failure,
                         const char* reason) {
  bool told = false;
  {
    const std::lock_guard lock(mutex_);
    auto& last = refused_[key_of(account.meta)];
    told = last == failure.what();
    last = failure.what();
  }
  if (!told) {
    count(counts_.failures, FailureReason::kInvalidAnnotation);
    parts_.log.warn("{}", failure.what());
    parts_.events.record(account, EventType::kWarning, reason, failure.what());
  }
}

std::size_t Reconciler::managed() const {
  const std::lock_guard lock(mutex_);
  return written_.size();
}

std::optional<std::int64_t> Reconciler::earliest_expiry() const {
  const std::lock_guard lock(mutex_);
  std::optional<std::int64_t> earliest;
  for (const auto& [key, written] : written_) {
    if (!earliest || written.expires_unix < *earliest) {
      earliest = written.expires_unix;
    }
  }
  return earliest;
}

void Reconciler::forget_written() {
  const std::lock_guard lock(mutex_);
  written_.clear();
  failures_.clear();
}

std::optional<Reconciler::TimePoint> Reconciler::make_right(const ServiceAccount& account,
                                                            const Wanted& wanted) {
  TimePoint renew_at;
  try {
    renew_at = secret_in_place(account, wanted);
  } catch (const Failure& failure) {
    const auto* provisioning = dynamic_cast<const ProvisionFailure*>(&failure);
    const auto step = provisioning ? std::optional(provisioning->step()) : std::nullopt;
    if (step == ProvisionStep::kExchange) {
      counts_.exchange.observe(provisioning->exchange_took());
    } else if (step == ProvisionStep::kWrite) {
      quay_answered(key_of(account.meta));  // the exchange before the write succeeded
    }
    return retry_later(account, failure_reason(failure), failure.what(),
                       provisioning != nullptr && provisioning->quay_unavailable());
  }
  return evict_stuck(account, wanted, renew_at);
}

Reconciler::TimePoint Reconciler::evict_stuck(const ServiceAccount& account, const Wanted& wanted,
                                              TimePoint renew_at) {
  if (!parts_.stuck_pods) {
    return renew_at;
  }
  const auto pods = parts_.stuck_pods(account.meta.namespace_name);
  if (pods.empty()) {
    return renew_at;
  }
  const auto again = evictor_.evict_stuck(account, wanted.secret_name, wanted.registry(), pods);
  return again ? std::min(renew_at, *again) : renew_at;
}

// The Secret made what `wanted` asks for, written only where it must be: when to renew it.
Reconciler::TimePoint Reconciler::secret_in_place(const ServiceAccount& account,
                                                  const Wanted& wanted) {
  const std::string key = key_of(account.meta);
  // Ours under another name (the secret-name annotation changed): withdrawn first.
  std::optional<Secret> cached;
  for (auto& secret : parts_.secrets(account.meta.namespace_name)) {
    if (secret.meta.name == wanted.secret_name) {
      cached = std::move(secret);
    } else if (text_of(secret.meta.labels, kServiceAccountLabel) == account.meta.name) {
      withdraw(parts_.api, secret, account.meta.name, provision_);
    }
  }
  std::optional<Written> written;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = written_.find(key); it != written_.end()) {
      written = it->second;
    }
  }
  if (written && (written->robot != wanted.robots() || written->secret_name != wanted.secret_name ||
                  written->account_uid != account.meta.uid)) {
    return provision_now(account, WriteReason::kReplaced, cached);
  }
  if (!written && (written = adoptable(account, wanted, cached))) {
    parts_.log.info("{}: Secret {} is valid until its renewal; kept", who(account),
                    wanted.secret_name);
    const std::lock_guard lock(mutex_);
    written_[key] = *written;
  }
  if (!written) {
    const bool other_robot =
        cached && text_of(cached->meta.annotations, kRobotKey) != wanted.robots();
    return provision_now(account, other_robot ? WriteReason::kReplaced : WriteReason::kCreated,
                         cached);
  }
  if (parts_.clock.monotonic() >= written->renew_at) {
    return provision_now(account, WriteReason::kRefreshed, cached);
  }
  if (!in_place(account, *written, cached)) {
    return provision_now(account, WriteReason::kRestored, cached);
  }
  return written->renew_at;
}

std::optional<Reconciler::Written> Reconciler::adoptable(
    const ServiceAccount& account, const Wanted& wanted,
    const std::optional<Secret>& secret) const {
  if (!secret || secret->dockerconfigjson_sha256.empty() ||
      text_of(secret->meta.annotations, kRobotKey) != wanted.robots() ||
      !owned_by(*secret, account.meta.uid)) {
    return std::nullopt;
  }
  const auto expires = parse_rfc3339(text_of(secret->meta.annotations, kExpiresKey));
  if (!expires) {
    return std::nullopt;
  }
  // Stamped and read on the API server's clock (ServerClock). A token that claims more than
  // Quay's lifetime left was not stamped by us, or on a clock far ahead: minted again.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      from_unix_seconds(*expires) - parts_.api.server_now());
  if (left <= renewal_.renew_before || left > kLongestTokenLife) {
    return std::nullopt;
  }
  return Written{.secret_name = wanted.secret_name,
                 .robot = wanted.robots(),
                 .account_uid = account.meta.uid,
                 .secret_sha256 = secret->dockerconfigjson_sha256,
                 .renew_at = renewal_time(left, false),
                 .valid_until = parts_.clock.monotonic() + left,
                 .expires_unix = *expires};
}

bool Reconciler::in_place(const ServiceAccount& account, const Written& written,
                          const std::optional<Secret>& cached) {
  if (!cached || cached->dockerconfigjson_sha256 != written.secret_sha256) {
    // The cache may not have seen our own write yet: ask the API server before minting again.
    const ApiResponse live =
        read(parts_.api, secret_path(account.meta.namespace_name, written.secret_name),
             provision_.api_timeout, who(account));
    const auto secret = live.status == 200 ? decode_secret(live.body) : std::nullopt;
    if (!secret || secret->dockerconfigjson_sha256 != written.secret_sha256) {
      return false;
    }
  }
  ensure_reference(parts_.api, account, written.secret_name, provision_);
  return true;
}

Reconciler::TimePoint Reconciler::provision_now(const ServiceAccount& account, WriteReason reason,
                                                const std::optional<Secret>& cached) {
  const Provisioned done = provision(parts_.api, parts_.quay_http, account, cached, provision_,
                                     exchange_, parts_.clock, parts_.log);
  counts_.exchange.observe(done.exchange_took);
  count(counts_.writes, reason);
  const auto expires_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                done.credential.expires_at.time_since_epoch())
                                .count();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      done.credential.valid_until - parts_.clock.monotonic());
  const std::string key = key_of(account.meta);
  Written written{.secret_name = done.secret_name,
                  .robot = done.credential.robot,
                  .account_uid = account.meta.uid,
                  .secret_sha256 = done.secret_sha256,
                  .renew_at = {},
                  .valid_until = done.credential.valid_until,
                  .expires_unix = expires_unix};
  {
    const std::lock_guard lock(mutex_);
    const auto before = written_.find(key);
    // A Secret written after its token had expired came back from an outage with all the
    // others: its next renewal is spread as a first one's, or they would come back together.
    const bool spread =
        reason == WriteReason::kCreated ||
        (before != written_.end() && before->second.valid_until <= parts_.clock.monotonic());
    written.renew_at = renewal_time(left, spread);
    written_[key] = written;
    failures_.erase(key);
  }
  quay_answered(key);
  const std::string expires = rfc3339(expires_unix);
  const std::string message = "Secret " + done.secret_name + " holds a token for robot " +
                              done.credential.robot + ", valid until " + expires;
  parts_.log.info("{}: {} ({})", who(account), message, event_reason(reason));
  parts_.events.record(account, EventType::kNormal, event_reason(reason), message);
  return written.renew_at;
}

}  // namespace qcp::controller

#include "qcp/controller/reconciler.hpp"

#include <algorithm>
#include <random>

#include "controller/api_calls.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/quay/renewal.hpp"

namespace qcp::controller {
namespace {

// Event reasons (UpperCamelCase, as kubectl shows them under Events).
constexpr const char* kCreated = "PullSecretCreated";
constexpr const char* kRefreshed = "PullSecretRefreshed";
constexpr const char* kRestored = "PullSecretRestored";  // edited or deleted by hand
constexpr const char* kReplaced = "PullSecretReplaced";  // another robot, or another name
constexpr const char* kRemoved = "PullSecretRemoved";
constexpr const char* kFailed = "PullSecretFailed";
constexpr const char* kInvalid = "InvalidAnnotation";

double uniform() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
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
      renewal_(renewal) {}

std::optional<Reconciler::TimePoint> Reconciler::reconcile(const std::string& key) {
  const auto account = parts_.account(key);
  if (!account || account->meta.deleting) {
    return withdraw_all(key);
  }
  std::optional<Wanted> wanted;
  try {
    wanted = wanted_for(*account, provision_);
  } catch (const Failure& failure) {
    // Nothing is written or removed for an annotation we cannot act on; told once per problem.
    bool told = false;
    {
      const std::lock_guard lock(mutex_);
      auto& last = refused_[key];
      told = last == failure.what();
      last = failure.what();
    }
    if (!told) {
      parts_.log.warn("{}", failure.what());
      parts_.events.record(*account, EventType::kWarning, kInvalid, failure.what());
    }
    return std::nullopt;
  }
  {
    const std::lock_guard lock(mutex_);
    refused_.erase(key);
  }
  return make_right(*account, *wanted);
}

void Reconciler::forget_written() {
  const std::lock_guard lock(mutex_);
  written_.clear();
  failures_.clear();
}

std::optional<Reconciler::TimePoint> Reconciler::withdraw_all(const std::string& key) {
  {
    const std::lock_guard lock(mutex_);
    written_.erase(key);
    refused_.erase(key);
  }
  const auto slash = key.find('/');
  const std::string account_name = key.substr(slash + 1);
  for (const auto& secret : parts_.secrets(key.substr(0, slash))) {
    if (text_of(secret.meta.labels, kServiceAccountLabel) != account_name) {
      continue;
    }
    try {
      const auto account = withdraw(parts_.api, secret, account_name, provision_);
      parts_.log.info("{}: Secret {} removed: the ServiceAccount asks for no robot",
                      who(secret.meta.namespace_name, account_name), secret.meta.name);
      if (account) {
        parts_.events.record(
            *account, EventType::kNormal, kRemoved,
            "Secret " + secret.meta.name + " removed: the ServiceAccount no longer names a robot");
      }
    } catch (const Failure& failure) {
      ServiceAccount subject;
      subject.meta.name = account_name;
      subject.meta.namespace_name = secret.meta.namespace_name;
      return retry_later(subject, kFailed, failure.what());
    }
  }
  const std::lock_guard lock(mutex_);
  failures_.erase(key);
  return std::nullopt;
}

std::optional<Reconciler::TimePoint> Reconciler::make_right(const ServiceAccount& account,
                                                            const Wanted& wanted) {
  const std::string key = key_of(account.meta);
  try {
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
    if (written &&
        (written->robot != wanted.identity.robot || written->secret_name != wanted.secret_name ||
         written->account_uid != account.meta.uid)) {
      return provision_now(account, kReplaced);
    }
    if (!written && (written = adoptable(account, wanted, cached))) {
      parts_.log.info("{}: Secret {} is valid until its renewal; kept", who(account),
                      wanted.secret_name);
      const std::lock_guard lock(mutex_);
      written_[key] = *written;
    }
    if (!written) {
      const bool other_robot =
          cached && text_of(cached->meta.annotations, kRobotKey) != wanted.identity.robot;
      return provision_now(account, other_robot ? kReplaced : kCreated);
    }
    if (parts_.clock.monotonic() >= written->renew_at) {
      return provision_now(account, kRefreshed);
    }
    if (!in_place(account, *written, cached)) {
      return provision_now(account, kRestored);
    }
    return written->renew_at;
  } catch (const Failure& failure) {
    return retry_later(account, kFailed, failure.what());
  }
}

std::optional<Reconciler::Written> Reconciler::adoptable(
    const ServiceAccount& account, const Wanted& wanted,
    const std::optional<Secret>& secret) const {
  if (!secret || secret->dockerconfigjson_sha256.empty() ||
      text_of(secret->meta.annotations, kRobotKey) != wanted.identity.robot ||
      !owned_by(*secret, account.meta.uid)) {
    return std::nullopt;
  }
  const auto expires = parse_rfc3339(text_of(secret->meta.annotations, kExpiresKey));
  if (!expires) {
    return std::nullopt;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      from_unix_seconds(*expires) - parts_.clock.now());
  if (left <= renewal_.renew_before) {
    return std::nullopt;
  }
  return Written{.secret_name = wanted.secret_name,
                 .robot = wanted.identity.robot,
                 .account_uid = account.meta.uid,
                 .secret_sha256 = secret->dockerconfigjson_sha256,
                 .renew_at = renewal_time(left)};
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

std::optional<Reconciler::TimePoint> Reconciler::provision_now(const ServiceAccount& account,
                                                               const char* reason) {
  const Provisioned done = provision(parts_.api, parts_.quay_http, account, provision_, exchange_,
                                     parts_.clock, parts_.log);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      done.credential.valid_until - parts_.clock.monotonic());
  const Written written{.secret_name = done.secret_name,
                        .robot = done.credential.robot,
                        .account_uid = account.meta.uid,
                        .secret_sha256 = done.secret_sha256,
                        .renew_at = renewal_time(left)};
  {
    const std::lock_guard lock(mutex_);
    written_[key_of(account.meta)] = written;
    failures_.erase(key_of(account.meta));
  }
  const std::string expires = rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                                          done.credential.expires_at.time_since_epoch())
                                          .count());
  const std::string message = "Secret " + done.secret_name + " holds a token for robot " +
                              done.credential.robot + ", valid until " + expires;
  parts_.log.info("{}: {} ({})", who(account), message, reason);
  parts_.events.record(account, EventType::kNormal, reason, message);
  return written.renew_at;
}

Reconciler::TimePoint Reconciler::retry_later(const ServiceAccount& account,
                                              const std::string& reason,
                                              const std::string& message) {
  int failures = 0;
  {
    const std::lock_guard lock(mutex_);
    failures = ++failures_[key_of(account.meta)];
  }
  // Never sooner than base/2: full jitter alone may draw ~0 and spin on a broken Quay.
  const auto delay = std::max(renewal_.retry_base / 2, backoff_delay(failures, renewal_.retry_base,
                                                                     renewal_.retry_cap, uniform));
  const std::string retry = message + " (attempt " + std::to_string(failures) + "; again in " +
                            format_human(std::chrono::ceil<std::chrono::seconds>(delay)) +
                            "; a Secret already written is kept)";
  parts_.log.warn("{}", retry);
  if (!account.meta.uid.empty()) {
    parts_.events.record(account, EventType::kWarning, reason, retry);
  }
  return parts_.clock.monotonic() + delay;
}

Reconciler::TimePoint Reconciler::renewal_time(std::chrono::milliseconds left) const {
  return parts_.clock.monotonic() + renew_after(left, renewal_.renew_before, uniform());
}

}  // namespace qcp::controller

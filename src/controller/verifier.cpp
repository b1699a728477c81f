#include "qcp/controller/verifier.hpp"

#include <algorithm>
#include <cctype>

#include "controller/api_calls.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/core/text.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/pull_check.hpp"

namespace qcp::controller {
namespace {

constexpr const char* kVerifiedReason = "FederationVerified";
constexpr const char* kFailedReason = "FederationFailed";
constexpr const char* kInvalidReason = "InvalidAnnotation";

// The robot of the image's organisation ("team" of "host/team/app"), else the first.
const Identity& identity_for(const Wanted& wanted, std::string_view image) {
  const std::string repository = repository_of_image(image);
  const std::string_view organisation =
      std::string_view(repository).substr(0, repository.find('/'));
  for (const auto& identity : wanted.identities) {
    if (quay::organisation_of(identity.robot) == organisation) {
      return identity;
    }
  }
  return wanted.identities.front();
}

}  // namespace

Verifier::Verifier(Parts parts, ProvisionSettings provision, ExchangeSettings exchange,
                   VerifySettings settings)
    : parts_(parts),
      provision_(std::move(provision)),
      exchange_(std::move(exchange)),
      settings_(std::move(settings)) {}

std::size_t Verifier::failing() const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(last_.begin(), last_.end(), [](const auto& entry) {
    return entry.second.result != VerifyResult::kOk;
  }));
}

std::optional<Verifier::TimePoint> Verifier::verify(const std::string& key,
                                                    const std::optional<ServiceAccount>& account) {
  if (!account || account->meta.deleting) {
    const std::lock_guard lock(mutex_);
    last_.erase(key);
    failures_.erase(key);
    return std::nullopt;
  }
  const Outcome outcome = walk(*account);
  counts_.at(static_cast<std::size_t>(outcome.result)).fetch_add(1, std::memory_order_relaxed);
  tell(*account, outcome);
  const auto now = parts_.clock.monotonic();
  if (outcome.result == VerifyResult::kAnnotation) {
    return std::nullopt;  // nothing to try until the annotation changes
  }
  int failures = 0;
  {
    const std::lock_guard lock(mutex_);
    if (outcome.result == VerifyResult::kOk) {
      failures_.erase(key);
    } else {
      failures = ++failures_[key];
    }
  }
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.interval);
  if (failures == 0) {
    // Up to 10% either way, so ServiceAccounts verified together drift apart.
    return now + std::chrono::duration_cast<std::chrono::milliseconds>(interval *
                                                                       (0.9 + 0.2 * random_unit()));
  }
  const auto delay =
      std::max(settings_.retry_base / 2,
               backoff_delay(failures, settings_.retry_base, settings_.retry_cap, random_unit));
  return now + std::min(delay, interval);
}

// The plugin's path for this ServiceAccount, walked now; what held, or the first link that broke.
Verifier::Outcome Verifier::walk(const ServiceAccount& account) const {
  std::optional<Wanted> wanted;
  try {
    wanted = wanted_for(account, provision_);
  } catch (const Failure& failure) {
    return {.result = VerifyResult::kAnnotation, .message = failure.what()};
  }
  if (!wanted) {
    return {.result = VerifyResult::kAnnotation,
            .message = who(account) + ": it names no robot, and no policy rule gives it one"};
  }
  const auto annotated = account.meta.annotations.find(kVerifyImageAnnotation);
  const bool own = annotated != account.meta.annotations.end() && !annotated->second.empty();
  const std::string image = own ? annotated->second : settings_.image;
  const Identity& identity = identity_for(*wanted, image);
  std::string token;
  try {
    token = service_account_token(parts_.api, account, provision_);
  } catch (const Failure& failure) {
    return {.result = VerifyResult::kTokenRequest, .message = failure.what()};
  }
  const WipeOnExit wipe_token(token);
  ExchangeSettings exchange = exchange_;
  exchange.deadline = parts_.clock.monotonic() + exchange.total_timeout;
  RobotCredential credential;
  try {
    credential =
        mint_credential(parts_.quay_http, identity, token, exchange, parts_.clock, parts_.log);
  } catch (const Failure& failure) {
    return {.result = VerifyResult::kExchange, .message = who(account) + ": " + failure.what()};
  }
  const WipeOnExit wipe_credential(credential.token);
  std::string done = who(account) + ": Quay exchanged its token for robot " + credential.robot;
  if (image.empty()) {
    return {.result = VerifyResult::kOk, .message = done};
  }
  const std::string repository = repository_of_image(image);
  if (ascii_lower(registry_of_image(image)) != ascii_lower(credential.registry) ||
      repository.empty()) {
    if (!own) {  // --verify-image names another registry's image: nothing to ask this one
      return {.result = VerifyResult::kOk, .message = done};
    }
    return {.result = VerifyResult::kAnnotation,
            .message = who(account) + ": annotation " + std::string(kVerifyImageAnnotation) +
                       " names \"" + one_line(image) + "\", not an image on " +
                       credential.registry};
  }
  const PullCheck pull =
      check_pull(parts_.quay_http, credential, repository, exchange, parts_.clock);
  if (!pull.granted) {
    return {.result = VerifyResult::kRegistry, .message = who(account) + ": " + pull.problem};
  }
  return {.result = VerifyResult::kOk, .message = done + ", which can pull " + repository};
}

// An Event when the outcome differs from the last one told: a steady state tells nothing more.
void Verifier::tell(const ServiceAccount& account, const Outcome& outcome) {
  {
    const std::lock_guard lock(mutex_);
    auto& last = last_[key_of(account.meta)];
    const bool same =
        last.result == outcome.result && last.message == outcome.message && !last.message.empty();
    last = outcome;
    if (same) {
      return;
    }
  }
  if (outcome.result == VerifyResult::kOk) {
    parts_.log.info("{}", outcome.message);
    parts_.events.record(account, EventType::kNormal, kVerifiedReason, outcome.message);
    return;
  }
  parts_.log.warn("{}", outcome.message);
  parts_.events.record(account, EventType::kWarning,
                       outcome.result == VerifyResult::kAnnotation ? kInvalidReason : kFailedReason,
                       outcome.message);
}

}  // namespace qcp::controller

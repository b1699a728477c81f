#include "qcp/controller/evictor.hpp"

#include <algorithm>
#include <cctype>

#include "controller/api_calls.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/text.hpp"

namespace qcp::controller {
namespace {

// Event reasons: on the pod, and on its ServiceAccount.
constexpr const char* kEvictedReason = "PullSecretEviction";
constexpr const char* kPodEvictedReason = "PodEvicted";
constexpr const char* kMissingReason = "PullSecretMissing";
// Pods left alone and told so; forgotten all at once past this (then told again).
constexpr std::size_t kMostTold = 10000;

std::string pod_path(const Pod& pod) {
  return "/api/v1/namespaces/" + pod.meta.namespace_name + "/pods/" + pod.meta.name;
}

}  // namespace

bool keep_stuck_pod(Pod& pod) {
  if (pod.meta.deleting || pod.service_account.empty() || pod.failed_pulls.empty()) {
    return false;
  }
  pod.meta.labels.clear();
  pod.meta.annotations.clear();
  return true;
}

Evictor::Evictor(ApiClient& api, EventRecorder& events, const Clock& clock, Log& log,
                 EvictionSettings settings)
    : api_(api), events_(events), clock_(clock), log_(log), settings_(settings) {}

std::optional<Evictor::TimePoint> Evictor::evict_stuck(const ServiceAccount& account,
                                                       const std::string& secret_name,
                                                       const std::string& registry,
                                                       const std::vector<Pod>& pods) {
  bool again = false;
  for (const auto& pod : pods) {
    if (pod.service_account != account.meta.name) {
      continue;
    }
    const auto image = stuck_image(pod, secret_name, registry);
    if (!image) {
      continue;
    }
    const std::string why = "created before Secret " + secret_name + " was among ServiceAccount " +
                            account.meta.name + "'s imagePullSecrets, it cannot pull " + *image;
    const std::string left = why_left(account, pod);
    if (!left.empty()) {
      tell_left(pod, "Not evicted: " + why + "; " + left);
      continue;
    }
    const EvictionResult result = evict(account, pod, why);
    again = again || result == EvictionResult::kBudget || result == EvictionResult::kFailed;
  }
  if (!again) {
    return std::nullopt;
  }
  return clock_.monotonic() + settings_.retry_after;
}

// The image the pod cannot pull from `registry` while it lacks `secret_name`, if any.
std::optional<std::string> Evictor::stuck_image(const Pod& pod, const std::string& secret_name,
                                                const std::string& registry) const {
  if (std::find(pod.image_pull_secrets.begin(), pod.image_pull_secrets.end(), secret_name) !=
      pod.image_pull_secrets.end()) {
    return std::nullopt;  // it has the Secret: its failure is something else
  }
  const std::string wanted = ascii_lower(registry);
  for (const auto& pull : pod.failed_pulls) {
    if (ascii_lower(registry_of_image(pull.image)) == wanted) {
      return pull.image;
    }
  }
  return std::nullopt;
}

EvictionResult Evictor::evict(const ServiceAccount& account, const Pod& pod,
                              const std::string& why) {
  const std::string subject = "Pod " + key_of(pod.meta);
  EvictionResult result = EvictionResult::kFailed;
  try {
    const ApiResponse answer =
        checked(api_,
                {.method = "POST",
                 .path = pod_path(pod) + "/eviction",
                 .body = encode_eviction(pod.meta.namespace_name, pod.meta.name),
                 .content_type = "application/json",
                 .timeout = settings_.api_timeout},
                {201, 429}, subject);
    if (answer.status == 404) {
      return EvictionResult::kEvicted;  // gone already (kube-api/10f)
    }
    if (answer.status == 429) {
      // A PodDisruptionBudget says not now (kube-api/10d); a Pending pod is normally exempt
      // (10c), so this is rare: tried again later, never forced.
      log_.info("{}: not evicted now: {}", subject, api_.refused(answer).what());
      result = EvictionResult::kBudget;
    } else if (answer.status == 201) {
      result = EvictionResult::kEvicted;
    } else {
      log_.warn("{}: not evicted: {}", subject, api_.refused(answer).what());
    }
  } catch (const Failure& failure) {
    log_.warn("{}", failure.what());
  }
  counts_.at(static_cast<std::size_t>(result)).fetch_add(1, std::memory_order_relaxed);
  if (result != EvictionResult::kEvicted) {
    return result;
  }
  log_.info("{}: evicted: {}", subject, why);
  events_.record(pod, EventType::kNormal, kEvictedReason,
                 "Evicted: " + why + "; its controller recreates it with the Secret");
  events_.record(account, EventType::kNormal, kPodEvictedReason,
                 "Pod " + pod.meta.name + " evicted: " + why);
  return result;
}

std::string Evictor::why_left(const ServiceAccount& account, const Pod& pod) {
  if (!pod.controlled) {
    return "it has no controller to recreate it: delete it and create it again";
  }
  for (const auto& name : pod.image_pull_secrets) {
    if (std::find(account.image_pull_secrets.begin(), account.image_pull_secrets.end(), name) ==
        account.image_pull_secrets.end()) {
      return "it names pull Secrets of its own (" + name +
             "), so a new pod would not get it either: add it to the pod's imagePullSecrets";
    }
  }
  return {};
}

void Evictor::tell_left(const Pod& pod, const std::string& why) {
  {
    const std::lock_guard lock(mutex_);
    if (told_.size() >= kMostTold) {
      told_.clear();
    }
    if (!told_.insert(pod.meta.uid).second) {
      return;
    }
  }
  counts_.at(static_cast<std::size_t>(EvictionResult::kLeft))
      .fetch_add(1, std::memory_order_relaxed);
  log_.info("Pod {}: {}", key_of(pod.meta), why);
  events_.record(pod, EventType::kWarning, kMissingReason, why);
}

}  // namespace qcp::controller

#pragma once

// Pods created before their ServiceAccount's pull Secret was among its imagePullSecrets never
// get it: the ServiceAccount admission plugin copies the list into a pod only when the pod is
// created (kube-api/07a, 07b), and a pod cannot be patched to add it. Such a pod waits in
// ErrImagePull/ImagePullBackOff for good (kube-api/10b). The Evictor asks the Eviction API
// (policy/v1) to remove it, so PodDisruptionBudgets are honoured, and its controller recreates
// it with the Secret. Only a pod that runs as a ServiceAccount this controller provisioned, lacks
// that Secret, and fails to pull from the registry the Secret serves. Never a pod without a
// controller (nothing would recreate it), nor one that names pull Secrets its ServiceAccount does
// not list (they are its own: its replacement would name them too, without ours, 07b): those are
// told, once each, with an Event.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/controller/events.hpp"
#include "qcp/controller/namespace.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::controller {

enum class EvictionResult : std::uint8_t { kEvicted, kBudget, kFailed, kLeft };
inline constexpr std::array<std::string_view, 4> kEvictionResultNames{"evicted", "budget", "failed",
                                                                      "left"};

struct EvictionSettings {
  std::chrono::milliseconds api_timeout{30000};
  // A PodDisruptionBudget refused (429) or the API server failed: look again this much later.
  std::chrono::milliseconds retry_after{30000};
};

// What the pending-pod informer keeps: a pod, not being deleted, that runs as a named
// ServiceAccount and has a container that cannot pull its image; trimmed to what the Evictor
// reads (no labels or annotations).
bool keep_stuck_pod(Pod& pod);

class Evictor {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Evictor(ApiClient& api, EventRecorder& events, const Clock& clock, Log& log,
          EvictionSettings settings);

  // Evicts, of `pods` (the stuck pods of `account`'s namespace), those that run as `account`,
  // lack `secret_name` and fail to pull from `registry`. When to look again (a budget said not
  // now, or a request failed); nullopt when nothing is left to do.
  std::optional<TimePoint> evict_stuck(const ServiceAccount& account,
                                       const std::string& secret_name, const std::string& registry,
                                       const std::vector<Pod>& pods);

  [[nodiscard]] std::uint64_t count(EvictionResult result) const {
    return counts_.at(static_cast<std::size_t>(result)).load(std::memory_order_relaxed);
  }

 private:
  [[nodiscard]] std::optional<std::string> stuck_image(const Pod& pod,
                                                       const std::string& secret_name,
                                                       const std::string& registry) const;
  EvictionResult evict(const ServiceAccount& account, const Pod& pod, const std::string& why);
  // Why a stuck pod is left alone ("" when it is not): no controller, or pull Secrets of its own.
  [[nodiscard]] static std::string why_left(const ServiceAccount& account, const Pod& pod);
  void tell_left(const Pod& pod, const std::string& why);

  ApiClient& api_;
  EventRecorder& events_;
  const Clock& clock_;
  Log& log_;
  EvictionSettings settings_;
  std::mutex mutex_;
  std::set<std::string> told_;  // uids of pods left alone and told so
  std::array<std::atomic<std::uint64_t>, kEvictionResultNames.size()> counts_{};
};

}  // namespace qcp::controller

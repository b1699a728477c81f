#pragma once

// What a controller knows of one kind of object: a LIST (in pages), then a WATCH from the list's
// resourceVersion with bookmarks, resumed from the last version seen when the stream ends,
// listed again when the API server says that version is too old (410), backing off on errors:
// client-go's reflector, for the objects this controller reads (kube-api/01a-03d).

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/stop_flag.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/kube/packed_objects.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::controller {

struct WatchedResource {
  std::string path;            // "/api/v1/serviceaccounts", "/api/v1/namespaces/NS/secrets"
  std::string label_selector;  // "" for every object
  std::string field_selector;  // "status.phase=Pending" (kube-api/10a); "" for every object
  int page_size = 500;
  // How long the API server keeps one watch open (timeoutSeconds). client-go picks 5-10 min.
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds api_timeout{30000};
  std::chrono::milliseconds backoff_base{800};  // client-go's reflector: 800 ms doubling to 30 s
  std::chrono::milliseconds backoff_cap{30000};
};

// What the informer has done, for logs and metrics.
struct InformerCounts {
  std::atomic<unsigned> lists{0};    // complete LISTs (the first, and each relist)
  std::atomic<unsigned> watches{0};  // WATCH requests opened
  std::atomic<unsigned> failures{0};
  // Failures since the API server last answered a LIST or sent a watch event: 0 while healthy.
  std::atomic<unsigned> failing{0};
};

// Packed objects (qcp/kube/packed_objects.hpp) ordered by their key, found by a key alone.
struct KeyOnly {
  std::string_view key;
};
struct ByPackedKey {
  using is_transparent = void;
  bool operator()(const std::string& a, const std::string& b) const {
    return packed_key(a) < packed_key(b);
  }
  bool operator()(const std::string& a, KeyOnly b) const { return packed_key(a) < b.key; }
  bool operator()(KeyOnly a, const std::string& b) const { return a.key < packed_key(b); }
};
using PackedStore = std::set<std::string, ByPackedKey>;

template <typename Object>
class Informer {
 public:
  // Whether to keep an object (the rest are never stored), trimming a kept one to the fields
  // the controller reads: only those stay in memory.
  using Keep = std::function<bool(Object&)>;
  // Told of every kept object that appeared or changed (present), and of one that went away or
  // stopped being kept (!present, the object as last known). Called on the informer's thread,
  // with no lock held.
  using OnChange = std::function<void(const Object& object, bool present)>;

  Informer(ApiClient& api, WatchedResource resource, Keep keep, OnChange on_change, Log& log);

  // Lists and watches until `stop` is requested.
  void run(const StopFlag& stop);

  // True once the first LIST is complete: until then, absence means nothing.
  [[nodiscard]] bool synced() const { return synced_.load(); }
  [[nodiscard]] std::optional<Object> get(const std::string& key) const;
  // The kept objects whose key starts with `prefix` ("ns/"), copied.
  [[nodiscard]] std::vector<Object> objects(std::string_view prefix = {}) const;
  [[nodiscard]] const InformerCounts& counts() const { return counts_; }
  [[nodiscard]] const std::string& path() const { return resource_.path; }

 private:
  enum class WatchEnd { kResume, kRelist, kFailed };
  std::optional<PackedStore> list_pages(const StopFlag& stop);
  bool list(const StopFlag& stop);
  WatchEnd watch(const StopFlag& stop);
  bool on_event(std::string_view line, WatchEnd& end);
  void store(const Object& object);
  void forget(const Object& object);
  [[nodiscard]] std::string query(bool watching, std::string_view continue_token) const;

  ApiClient& api_;
  WatchedResource resource_;
  Keep keep_;
  OnChange on_change_;
  Log& log_;
  mutable std::mutex mutex_;
  // Kept objects packed: a tenth of the allocations and a third of the bytes of the objects.
  PackedStore objects_;
  std::string resource_version_;  // the informer thread's alone
  std::atomic<bool> synced_{false};
  InformerCounts counts_;
};

extern template class Informer<ServiceAccount>;
extern template class Informer<Secret>;
extern template class Informer<Pod>;

}  // namespace qcp::controller

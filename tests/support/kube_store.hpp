#pragma once
// KubeStore: FakeKubeApi's objects, as the API server's storage keeps them: one revision counter
// for everything (a resourceVersion is the revision of an object's last write, a list's is the
// store's: kube-api README, "resourceVersion"), uids, and a bounded history of changes per
// resource for watches (the watch cache's window: --default-watch-cache-size=100, kube-api/03a).
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace qcp::test {

struct StoredChange {
  std::uint64_t revision = 0;
  std::string type;  // ADDED, MODIFIED, DELETED
  nlohmann::json object;
  // MODIFIED: the state before, so a watch with a selector can tell an object that starts or
  // stops matching (ADDED or DELETED to that watch, as the watch cache does).
  nlohmann::json previous;
};

class KubeStore {
 public:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, namespace, name

  // nullopt when absent.
  [[nodiscard]] std::optional<nlohmann::json> get(const Key& key) const;
  // The objects of `resource` in `namespace_name` ("" = all namespaces), sorted by namespace
  // and name, as a LIST reads them; and the store's revision then.
  [[nodiscard]] std::pair<std::vector<nlohmann::json>, std::uint64_t> list(
      const std::string& resource, const std::string& namespace_name) const;
  // One LIST page, as etcd orders keys ("namespace/name" as a string): the objects of
  // `resource` in `namespace_name` ("" = all) whose key is not below `start` and that `keep`
  // accepts, at most `limit` (0: all) copied; how many more there are; the store's revision.
  struct Page {
    std::vector<nlohmann::json> items;
    std::size_t remaining = 0;
    std::uint64_t revision = 0;
  };
  [[nodiscard]] Page list_page(const std::string& resource, const std::string& namespace_name,
                               const std::string& start, std::size_t limit,
                               const std::function<bool(const nlohmann::json&)>& keep) const;
  // Creates (metadata.uid, resourceVersion, creationTimestamp set); false when it exists.
  bool create(const Key& key, nlohmann::json object, nlohmann::json& stored);
  // Replaces: the new revision, or the same when nothing changed (kube-api/05e).
  void replace(const Key& key, nlohmann::json object, nlohmann::json& stored);
  // Removes; the last state (with the deletion's revision) or nullopt when absent.
  std::optional<nlohmann::json> remove(const Key& key);

  [[nodiscard]] std::uint64_t revision() const;
  // Changes to `resource` after `revision`, waiting up to `wait` for the first; nullopt when
  // `revision` is older than the history holds (a watch's 410, kube-api/03a).
  std::optional<std::vector<StoredChange>> changes_after(const std::string& resource,
                                                         std::uint64_t revision,
                                                         std::chrono::milliseconds wait) const;
  // Forgets the history (an API server restart: every older watch resourceVersion is 410).
  void forget_history();

 private:
  void record(const std::string& resource, std::string type, const nlohmann::json& object,
              nlohmann::json previous = nullptr);
  std::string next_uid();

  static constexpr std::size_t kHistory = 100;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<Key, nlohmann::json> objects_;
  std::map<std::string, std::deque<StoredChange>> history_;
  std::map<std::string, std::uint64_t> oldest_;  // per resource: changes after this are held
  std::uint64_t revision_ = 1000;
  std::uint64_t uids_ = 0;
};

}  // namespace qcp::test

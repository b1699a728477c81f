#include "kube_store.hpp"

#include <algorithm>
#include <cstdio>

#include "http_text.hpp"

namespace qcp::test {

std::optional<nlohmann::json> KubeStore::get(const Key& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::pair<std::vector<nlohmann::json>, std::uint64_t> KubeStore::list(
    const std::string& resource, const std::string& namespace_name) const {
  const std::lock_guard lock(mutex_);
  std::vector<nlohmann::json> items;
  for (const auto& [key, object] : objects_) {  // the map's order: namespace, then name
    if (std::get<0>(key) == resource &&
        (namespace_name.empty() || std::get<1>(key) == namespace_name)) {
      items.push_back(object);
    }
  }
  return {std::move(items), revision_};
}

KubeStore::Page KubeStore::list_page(const std::string& resource, const std::string& namespace_name,
                                     const std::string& start, std::size_t limit,
                                     const std::function<bool(const nlohmann::json&)>& keep) const {
  const std::lock_guard lock(mutex_);
  // Only keys are gathered and sorted: copying every object for every page of a 100,000-object
  // list is what made paging slow, not the ordering.
  std::vector<std::pair<std::string, const nlohmann::json*>> keys;
  for (auto it = objects_.lower_bound({resource, "", ""});
       it != objects_.end() && std::get<0>(it->first) == resource; ++it) {
    if (!namespace_name.empty() && std::get<1>(it->first) != namespace_name) {
      continue;
    }
    std::string key = std::get<1>(it->first) + "/" + std::get<2>(it->first);
    if (key >= start && keep(it->second)) {
      keys.emplace_back(std::move(key), &it->second);
    }
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Page page;
  page.revision = revision_;
  const std::size_t taken = limit == 0 ? keys.size() : std::min(limit, keys.size());
  page.items.reserve(taken);
  for (std::size_t i = 0; i < taken; ++i) {
    page.items.push_back(*keys[i].second);
  }
  page.remaining = keys.size() - taken;
  return page;
}

std::string KubeStore::next_uid() {
  char uid[40];
  std::snprintf(uid, sizeof uid, "6fe4cc97-b0df-4b13-87b1-%012llx",
                static_cast<unsigned long long>(++uids_));
  return uid;
}

bool KubeStore::create(const Key& key, nlohmann::json object, nlohmann::json& stored) {
  const std::lock_guard lock(mutex_);
  if (objects_.contains(key)) {
    return false;
  }
  auto& metadata = object["metadata"];
  metadata["uid"] = next_uid();
  metadata["resourceVersion"] = std::to_string(++revision_);
  metadata["creationTimestamp"] = rfc3339(std::chrono::system_clock::now());
  objects_[key] = object;
  record(std::get<0>(key), "ADDED", object);
  stored = std::move(object);
  return true;
}

void KubeStore::replace(const Key& key, nlohmann::json object, nlohmann::json& stored) {
  const std::lock_guard lock(mutex_);
  auto& current = objects_.at(key);
  // What the server keeps whatever the writer sent.
  for (const char* kept : {"uid", "creationTimestamp", "resourceVersion"}) {
    object["metadata"][kept] = current["metadata"][kept];
  }
  if (object != current) {
    object["metadata"]["resourceVersion"] = std::to_string(++revision_);
    nlohmann::json previous = std::move(current);
    current = object;
    record(std::get<0>(key), "MODIFIED", object, std::move(previous));
  }
  stored = current;
}

std::optional<nlohmann::json> KubeStore::remove(const Key& key) {
  const std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) {
    return std::nullopt;
  }
  nlohmann::json last = std::move(it->second);
  objects_.erase(it);
  last["metadata"]["resourceVersion"] = std::to_string(++revision_);
  record(std::get<0>(key), "DELETED", last);
  return last;
}

std::uint64_t KubeStore::revision() const {
  const std::lock_guard lock(mutex_);
  return revision_;
}

void KubeStore::record(const std::string& resource, std::string type, const nlohmann::json& object,
                       nlohmann::json previous) {
  auto& changes = history_[resource];
  changes.push_back({revision_, std::move(type), object, std::move(previous)});
  while (changes.size() > kHistory) {
    oldest_[resource] = changes.front().revision;
    changes.pop_front();
  }
  changed_.notify_all();
}

std::optional<std::vector<StoredChange>> KubeStore::changes_after(
    const std::string& resource, std::uint64_t revision, std::chrono::milliseconds wait) const {
  std::unique_lock lock(mutex_);
  const auto oldest = oldest_.find(resource);
  if (oldest != oldest_.end() && revision < oldest->second) {
    return std::nullopt;
  }
  const auto newer = [&] {
    std::vector<StoredChange> out;
    if (const auto it = history_.find(resource); it != history_.end()) {
      for (const auto& change : it->second) {
        if (change.revision > revision) {
          out.push_back(change);
        }
      }
    }
    return out;
  };
  std::vector<StoredChange> out = newer();
  if (out.empty()) {
    changed_.wait_for(lock, wait, [&] { return !(out = newer()).empty(); });
  }
  return out;
}

void KubeStore::forget_history() {
  const std::lock_guard lock(mutex_);
  for (auto& [resource, changes] : history_) {
    changes.clear();
  }
  for (const auto& [key, object] : objects_) {
    oldest_[std::get<0>(key)] = revision_;
  }
  for (const auto& [resource, changes] : history_) {
    oldest_[resource] = revision_;
  }
}

}  // namespace qcp::test

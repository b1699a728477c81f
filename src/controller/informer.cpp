#include "qcp/controller/informer.hpp"

#include "controller/object_codecs.hpp"
#include "qcp/core/memory.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/core/text.hpp"

namespace qcp::controller {
namespace {

// An empty watch that ends sooner than this is a failure to back off from, not a resume.
constexpr std::chrono::seconds kShortestWatch{1};

// Puts `packed` in `store` in place of any object with its key.
void put(PackedStore& store, std::string packed) {
  auto it = store.find(KeyOnly{packed_key(packed)});
  if (it != store.end()) {
    it = store.erase(it);
  }
  store.insert(it, std::move(packed));
}

template <typename Object>
Object unpacked(std::string_view packed) {
  return unpack(std::type_identity<Object>{}, packed);
}

}  // namespace

template <typename Object>
Informer<Object>::Informer(ApiClient& api, WatchedResource resource, Keep keep, OnChange on_change,
                           Log& log)
    : api_(api),
      resource_(std::move(resource)),
      keep_(std::move(keep)),
      on_change_(std::move(on_change)),
      log_(log) {}

template <typename Object>
void Informer<Object>::run(const StopFlag& stop) {
  bool listed = false;
  int failures = 0;
  while (!stop.requested()) {
    WatchEnd end = WatchEnd::kFailed;
    if (listed || (listed = list(stop))) {
      end = watch(stop);
    }
    if (end == WatchEnd::kRelist) {
      listed = false;
    }
    if (end != WatchEnd::kFailed) {
      failures = 0;
      continue;
    }
    ++counts_.failures;
    counts_.failing = static_cast<unsigned>(++failures);
    stop.wait_for(
        backoff_delay(failures, resource_.backoff_base, resource_.backoff_cap, random_unit));
  }
}

template <typename Object>
std::string Informer<Object>::query(bool watching, std::string_view continue_token) const {
  std::string query = watching
                          ? "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                                percent_encoded(resource_version_) +
                                "&timeoutSeconds=" + std::to_string(resource_.watch_timeout.count())
                          : "?limit=" + std::to_string(resource_.page_size);
  if (!continue_token.empty()) {
    query += "&continue=" + percent_encoded(continue_token);
  }
  if (!resource_.label_selector.empty()) {
    query += "&labelSelector=" + percent_encoded(resource_.label_selector);
  }
  if (!resource_.field_selector.empty()) {
    query += "&fieldSelector=" + percent_encoded(resource_.field_selector);
  }
  return query;
}

template <typename Object>
std::optional<PackedStore> Informer<Object>::list_pages(const StopFlag& stop) {
  PackedStore fresh;
  std::string continue_token;
  while (!stop.requested()) {
    const ApiResponse answer = api_.call({.method = "GET",
                                          .path = resource_.path + query(false, continue_token),
                                          .body = {},
                                          .content_type = {},
                                          .timeout = resource_.api_timeout});
    if (answer.status == 410 && !continue_token.empty()) {
      // kube-api/01g: the continue token outlived the API server's history; start over.
      log_.info("listing {} again from the start: {}", resource_.path, api_.refused(answer).what());
      fresh.clear();
      continue_token.clear();
      continue;
    }
    if (answer.status != 200) {
      log_.warn("cannot list {}: {}", resource_.path, api_.refused(answer).what());
      return std::nullopt;
    }
    auto page = decode_page(std::type_identity<Object>{}, answer.body);
    if (!page) {
      log_.warn("cannot list {}: the API server's answer is no list of them", resource_.path);
      return std::nullopt;
    }
    for (auto& item : page->items) {
      if (keep_(item)) {
        put(fresh, pack(item));
      }
    }
    if (page->continue_token.empty()) {
      resource_version_ = page->resource_version;  // the snapshot every page came from (01c)
      return fresh;
    }
    continue_token = std::move(page->continue_token);
  }
  return std::nullopt;
}

template <typename Object>
bool Informer<Object>::list(const StopFlag& stop) {
  auto fresh = list_pages(stop);
  if (!fresh) {
    return false;
  }
  ++counts_.lists;
  counts_.failing = 0;
  {
    const std::lock_guard lock(mutex_);
    objects_.swap(*fresh);  // `fresh` now holds what was known before
  }
  synced_ = true;
  // Told only of what changed while no watch was looking (or everything, the first time). Only
  // this thread writes `objects_`, so it reads them here without the lock.
  for (const auto& packed : objects_) {
    const auto before = fresh->find(KeyOnly{packed_key(packed)});
    if (before == fresh->end() || *before != packed) {
      on_change_(unpacked<Object>(packed), true);
    }
    if (before != fresh->end()) {
      fresh->erase(before);
    }
  }
  for (const auto& gone : *fresh) {
    on_change_(unpacked<Object>(gone), false);
  }
  fresh.reset();
  release_free_memory();  // the pages' decoded objects, mostly not kept: megabytes at scale
  return true;
}

template <typename Object>
typename Informer<Object>::WatchEnd Informer<Object>::watch(const StopFlag& stop) {
  ++counts_.watches;
  const auto started = std::chrono::steady_clock::now();
  bool heard = false;
  WatchEnd end = WatchEnd::kResume;
  ApiResponse answer;
  try {
    answer = api_.watch(
        {.method = "GET",
         .path = resource_.path + query(true, {}),
         .body = {},
         .content_type = {},
         .timeout = resource_.watch_timeout + resource_.api_timeout},
        [&](std::string_view line) {
          heard = true;
          counts_.failing = 0;
          return on_event(line, end);
        },
        [&] { return !stop.requested(); });
  } catch (const Failure& failure) {
    log_.warn("watching {} failed: {}", resource_.path, failure.what());
    return WatchEnd::kFailed;
  }
  if (answer.status == 410) {
    return WatchEnd::kRelist;
  }
  if (answer.status != 200) {
    log_.warn("cannot watch {}: {}", resource_.path, api_.refused(answer).what());
    return WatchEnd::kFailed;
  }
  if (end == WatchEnd::kResume && !heard && !stop.requested() &&
      std::chrono::steady_clock::now() - started < kShortestWatch) {
    return WatchEnd::kFailed;  // a stream that ends as it opens: do not spin on it
  }
  return end;
}

template <typename Object>
bool Informer<Object>::on_event(std::string_view line, WatchEnd& end) {
  auto event = decode_event(std::type_identity<Object>{}, line);
  if (!event) {
    log_.warn("watching {}: an event that is none; watching again from {}", resource_.path,
              resource_version_);
    end = WatchEnd::kFailed;
    return false;
  }
  switch (event->type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
      resource_version_ = event->resource_version;
      if (keep_(*event->object)) {
        store(*event->object);
      } else {
        forget(*event->object);
      }
      return true;
    case WatchEventType::kDeleted:
      resource_version_ = event->resource_version;
      forget(*event->object);
      return true;
    case WatchEventType::kBookmark:
      resource_version_ = event->resource_version;
      return true;
    case WatchEventType::kError:
      break;
  }
  // kube-api/03a-03d: 410 Expired: the version is older than the history; list again.
  if (event->error_code == 410) {
    log_.info("watching {}: {}; listing again", resource_.path, event->error_message);
    end = WatchEnd::kRelist;
  } else {
    log_.warn("watching {}: the API server ended it: {} ({})", resource_.path, event->error_message,
              event->error_code);
    end = WatchEnd::kFailed;
  }
  return false;
}

template <typename Object>
void Informer<Object>::store(const Object& object) {
  {
    const std::lock_guard lock(mutex_);
    put(objects_, pack(object));
  }
  on_change_(object, true);
}

template <typename Object>
void Informer<Object>::forget(const Object& object) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = objects_.find(KeyOnly{key_of(object.meta)});
    if (it == objects_.end()) {
      return;  // never kept: nothing to tell
    }
    objects_.erase(it);
  }
  on_change_(object, false);
}

template <typename Object>
std::optional<Object> Informer<Object>::get(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = objects_.find(KeyOnly{key});
  return it == objects_.end() ? std::nullopt : std::optional<Object>(unpacked<Object>(*it));
}

template <typename Object>
std::vector<Object> Informer<Object>::objects(std::string_view prefix) const {
  const std::lock_guard lock(mutex_);
  std::vector<Object> found;
  for (auto it = objects_.lower_bound(KeyOnly{prefix});
       it != objects_.end() && packed_key(*it).starts_with(prefix); ++it) {
    found.push_back(unpacked<Object>(*it));
  }
  return found;
}

template class Informer<ServiceAccount>;
template class Informer<Secret>;
template class Informer<Pod>;

}  // namespace qcp::controller

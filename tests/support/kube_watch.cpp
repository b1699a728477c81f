// FakeKubeApi's WATCH (kube-api/02a-02c, 03a, 03d): 200, chunked application/json, one event
// line per chunk, starting strictly after the requested resourceVersion; BOOKMARKs (with
// allowWatchBookmarks) a minute in and two seconds before the end; a clean end at
// timeoutSeconds; an ERROR Status 410 (never HTTP 410) for a resourceVersion older than the
// history holds.
#include <chrono>

#include "kube_handlers.hpp"
#include "kube_pods.hpp"
#include "kube_replies.hpp"

namespace qcp::test::kube_handlers {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kDefaultTimeout{1800};  // --min-request-timeout's order

struct WatchSpec {
  Target target;
  std::string selector;
  std::string field_selector;
  std::uint64_t from = 0;
  bool bookmarks = false;
  std::chrono::seconds timeout{kDefaultTimeout};
};

bool selected(const json& object, const WatchSpec& spec) {
  std::string unsupported;
  return (spec.target.namespace_name.empty() ||
          object["metadata"].value("namespace", "") == spec.target.namespace_name) &&
         kube_handlers::selected(object, spec.selector) &&
         kube_pods::field_selected(spec.target.resource, object, spec.field_selector, unsupported)
             .value_or(false);
}

// What one change is to a watch with selectors: an object that starts matching is ADDED to it,
// one that stops is DELETED (with its new state), one that never matched is nothing.
std::string type_for(const StoredChange& change, const WatchSpec& spec) {
  const bool now = selected(change.object, spec);
  if (change.type != "MODIFIED" || change.previous.is_null()) {
    return now ? change.type : "";
  }
  const bool before = selected(change.previous, spec);
  if (now) {
    return before ? "MODIFIED" : "ADDED";
  }
  return before ? "DELETED" : "";
}

std::string line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

void stream_changes(const KubeStore& store, const WatchSpec& spec,
                    const std::atomic<unsigned>& epoch, ChunkSink& sink) {
  const unsigned started_epoch = epoch.load();
  const auto start = Clock::now();
  const auto deadline = start + spec.timeout;
  // cache_watcher.go nextBookmarkTime: each minute, and two seconds before the deadline.
  auto next_bookmark =
      std::min(start + std::chrono::seconds{60}, deadline - std::chrono::seconds{2});
  std::uint64_t at = spec.from;
  while (Clock::now() < deadline && epoch.load() == started_epoch &&
         sink.pause(std::chrono::milliseconds{1})) {
    const auto changes =
        store.changes_after(spec.target.resource, at, std::chrono::milliseconds{100});
    if (!changes) {
      sink.send(line("ERROR", {{"kind", "Status"},
                               {"apiVersion", "v1"},
                               {"metadata", json::object()},
                               {"status", "Failure"},
                               {"message", "too old resource version: " + std::to_string(at) +
                                               " (" + std::to_string(store.revision()) + ")"},
                               {"reason", "Expired"},
                               {"code", 410}}));
      return;
    }
    for (const auto& change : *changes) {
      at = change.revision;
      const std::string type = type_for(change, spec);
      if (!type.empty() && !sink.send(line(type, with_kind(change.object, spec.target.resource)))) {
        return;
      }
    }
    if (spec.bookmarks && Clock::now() >= next_bookmark) {
      at = std::max(at, store.revision());
      sink.send(line("BOOKMARK", {{"kind", kind_of(spec.target.resource)},
                                  {"apiVersion", "v1"},
                                  {"metadata", {{"resourceVersion", std::to_string(at)}}}}));
      next_bookmark = next_bookmark + std::chrono::seconds{60} < deadline - std::chrono::seconds{2}
                          ? next_bookmark + std::chrono::seconds{60}
                          : deadline;
    }
  }
}

}  // namespace

Reply watch(const KubeStore& store, const Target& target, const Query& query,
            const std::atomic<unsigned>& epoch) {
  WatchSpec spec{.target = target,
                 .selector = query.contains("labelSelector") ? query.at("labelSelector") : "",
                 .field_selector = query.contains("fieldSelector") ? query.at("fieldSelector") : "",
                 .from = 0,
                 .bookmarks = query.contains("allowWatchBookmarks") &&
                              query.at("allowWatchBookmarks") == "true",
                 .timeout = kDefaultTimeout};
  if (std::string unsupported; !kube_pods::field_selected(target.resource, json::object(),
                                                          spec.field_selector, unsupported)) {
    return kube_pods::unsupported_field(unsupported);  // kube-api/10a
  }
  if (const auto it = query.find("timeoutSeconds"); it != query.end()) {
    spec.timeout = std::chrono::seconds{std::stoll(it->second)};
  }
  const auto rv = query.find("resourceVersion");
  std::vector<json> initial;
  if (rv == query.end() || rv->second.empty() || rv->second == "0") {
    // No resourceVersion: every object as ADDED, then what follows (client-go lists first).
    auto [items, revision] = store.list(target.resource, target.namespace_name);
    initial = std::move(items);
    spec.from = revision;
  } else {
    spec.from = std::stoull(rv->second);
  }
  Reply reply;
  reply.status = 200;
  reply.headers = {{"Cache-Control", "no-cache, private"}, {"Content-Type", "application/json"}};
  reply.stream = [&store, &epoch, spec, initial = std::move(initial)](ChunkSink& sink) {
    for (const auto& object : initial) {
      if (selected(object, spec) &&
          !sink.send(line("ADDED", with_kind(object, spec.target.resource)))) {
        return;
      }
    }
    stream_changes(store, spec, epoch, sink);
  };
  return reply;
}

}  // namespace qcp::test::kube_handlers

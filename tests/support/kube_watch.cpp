// FakeKubeApi's WATCH (kube-api/02a-02c, 03a, 03d): 200, chunked application/json, one event
// line per chunk, starting strictly after the requested resourceVersion; BOOKMARKs (with
// allowWatchBookmarks) a minute in and two seconds before the end; a clean end at
// timeoutSeconds; an ERROR Status 410 (never HTTP 410) for a resourceVersion older than the
// history holds.
#include <chrono>

#include "kube_handlers.hpp"
#include "kube_replies.hpp"

namespace qcp::test::kube_handlers {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kDefaultTimeout{1800};  // --min-request-timeout's order

bool selected(const json& object, const Target& target, const std::string& selector) {
  return (target.namespace_name.empty() ||
          object["metadata"].value("namespace", "") == target.namespace_name) &&
         kube_handlers::selected(object, selector);
}

std::string line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

struct WatchSpec {
  Target target;
  std::string selector;
  std::uint64_t from = 0;
  bool bookmarks = false;
  std::chrono::seconds timeout{kDefaultTimeout};
};

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
      if (selected(change.object, spec.target, spec.selector) &&
          !sink.send(line(change.type, with_kind(change.object, spec.target.resource)))) {
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
                 .from = 0,
                 .bookmarks = query.contains("allowWatchBookmarks") &&
                              query.at("allowWatchBookmarks") == "true",
                 .timeout = kDefaultTimeout};
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
      if (selected(object, spec.target, spec.selector) &&
          !sink.send(line("ADDED", with_kind(object, spec.target.resource)))) {
        return;
      }
    }
    stream_changes(store, spec, epoch, sink);
  };
  return reply;
}

}  // namespace qcp::test::kube_handlers

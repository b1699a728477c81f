#pragma once

// Reading API objects out of nlohmann::json without throwing: the fields every object shares
// (metadata), LIST pages and WATCH lines, for the decoders of each kind (objects.cpp, pod.cpp).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "qcp/kube/objects.hpp"

namespace qcp::kube::object_json {

using Json = nlohmann::json;

inline std::string text_at(const Json& object, std::string_view key) {
  if (!object.is_object()) {
    return {};
  }
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::map<std::string, std::string, std::less<>> string_map(const Json& object,
                                                                  std::string_view key) {
  std::map<std::string, std::string, std::less<>> out;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_object()) {
    return out;
  }
  for (const auto& [name, value] : it->items()) {
    if (value.is_string()) {
      out.emplace(name, value.get<std::string>());
    }
  }
  return out;
}

inline std::optional<ObjectMeta> meta_of(const Json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return std::nullopt;
  }
  const Json& metadata = object["metadata"];
  ObjectMeta meta{.name = text_at(metadata, "name"),
                  .namespace_name = text_at(metadata, "namespace"),
                  .uid = text_at(metadata, "uid"),
                  .resource_version = text_at(metadata, "resourceVersion"),
                  .labels = string_map(metadata, "labels"),
                  .annotations = string_map(metadata, "annotations"),
                  .deleting = metadata.contains("deletionTimestamp") &&
                              !metadata["deletionTimestamp"].is_null()};
  if (meta.name.empty()) {
    return std::nullopt;
  }
  return meta;
}

template <typename Object, typename Decode>
std::optional<ListPage<Object>> list_of(std::string_view text, Decode decode) {
  const auto json = Json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("items") || !json["items"].is_array() ||
      !json.contains("metadata")) {
    return std::nullopt;
  }
  ListPage<Object> page{.items = {},
                        .resource_version = text_at(json["metadata"], "resourceVersion"),
                        .continue_token = text_at(json["metadata"], "continue")};
  page.items.reserve(json["items"].size());
  for (const auto& item : json["items"]) {
    if (auto object = decode(item)) {
      page.items.push_back(std::move(*object));
    }
  }
  return page;
}

inline std::optional<WatchEventType> event_type(std::string_view type) {
  constexpr std::pair<std::string_view, WatchEventType> kTypes[] = {
      {"ADDED", WatchEventType::kAdded},
      {"MODIFIED", WatchEventType::kModified},
      {"DELETED", WatchEventType::kDeleted},
      {"BOOKMARK", WatchEventType::kBookmark},
      {"ERROR", WatchEventType::kError}};
  for (const auto& [name, value] : kTypes) {
    if (name == type) {
      return value;
    }
  }
  return std::nullopt;
}

template <typename Object, typename Decode>
std::optional<WatchEvent<Object>> event_of(std::string_view line, Decode decode) {
  const auto json = Json::parse(line, nullptr, false);
  const auto type = event_type(text_at(json, "type"));
  if (!type || !json.contains("object") || !json["object"].is_object()) {
    return std::nullopt;
  }
  const Json& object = json["object"];
  WatchEvent<Object> event;
  event.type = *type;
  if (*type == WatchEventType::kError) {  // a Status (kube-api/03a)
    if (const auto code = object.find("code"); code != object.end() && code->is_number_integer()) {
      event.error_code = code->get<long>();
    }
    event.error_reason = text_at(object, "reason");
    event.error_message = text_at(object, "message");
    return event;
  }
  if (object.contains("metadata")) {
    event.resource_version = text_at(object["metadata"], "resourceVersion");
  }
  if (*type != WatchEventType::kBookmark) {
    event.object = decode(object);
    if (!event.object) {
      return std::nullopt;
    }
  }
  return event;
}

}  // namespace qcp::kube::object_json

#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// One entry of the response's auth map.
struct AuthEntry {
  std::string_view key;  // the kubelet's glob grammar: "host[:port]" or "host[:port]/org/"
  std::string_view username;
  std::string_view password;
};

// What the kubelet keys its cache on (kubelet-plugin-protocol.md §8).
enum class CacheKeyType { kRegistry, kImage };

struct Credentials {
  std::string_view api_version;  // echo of the request's: the kubelet demands an exact match
  std::vector<AuthEntry> auth;
  std::chrono::seconds cache_duration{};
  CacheKeyType cache_key_type = CacheKeyType::kRegistry;
};

// The CredentialProviderResponse: compact JSON, only the fields the kubelet's strict decoder
// knows, ending in one newline.
std::string render_response(const Credentials& credentials);

}  // namespace qcp::kube

#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

struct Credential {
  std::string_view api_version;  // echo of the request's: the kubelet demands an exact match
  std::string_view registry;     // auth key: the image's host[:port]
  std::string_view username;
  std::string_view password;
  std::chrono::seconds cache_duration{};
};

// The CredentialProviderResponse: compact JSON, only the fields the kubelet's strict decoder
// knows, cacheKeyType Registry, ending in one newline.
std::string render_response(const Credential& credential);

}  // namespace qcp::kube

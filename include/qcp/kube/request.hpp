#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <map>
#include <string>
#include <string_view>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// One CredentialProviderRequest as written by the kubelet to stdin.
struct CredentialProviderRequest {
  std::string api_version;            // e.g. credentialprovider.kubelet.k8s.io/v1
  std::string image;                  // normalized repository, e.g. quay.example.com:8443/team/app
  std::string service_account_token;  // empty when the kubelet sent none
  std::map<std::string, std::string, std::less<>> service_account_annotations;
};

inline constexpr std::size_t kMaxRequestBytes = std::size_t{1} << 20;

// Reads stdin to EOF, refusing more than max_bytes (the kubelet sends a few KiB). Before each
// read, `wait_for_input` (when set) returns once bytes or EOF are there, or throws a Failure
// when the deadline has passed, so a writer that never closes stdin cannot hold the process.
// Each read takes only what the stream has buffered, never blocking for a full chunk.
std::string read_request(std::istream& in, std::size_t max_bytes = kMaxRequestBytes,
                         const std::function<void()>& wait_for_input = {});

// Decodes and checks one request. Unknown fields are ignored (forward compatibility); a wrong
// kind or apiVersion, a missing image or wrongly typed fields are refused. Error messages never
// quote the input: it carries the service-account token.
CredentialProviderRequest parse_request(std::string_view json);

[[nodiscard]] bool is_supported_api_version(std::string_view api_version);

}  // namespace qcp::kube

#pragma once

#include <string>
#include <string_view>

namespace qcp::core {

// The registry of an image reference, exactly as written: "host", "host:port", "[v6]:port".
// The kubelet keys its cache (cacheKeyType Registry) and matches auth entries by this text, so
// the port is never dropped and nothing is normalized. Names without a registry component
// ("nginx", "team/app") belong to docker.io, as in the kubelet's own normalization.
std::string registry_of_image(std::string_view image);

// A matchImages entry install writes: HOST[:PORT][/PATH] as is_valid_host_port (names.hpp), except
// that a host label may hold '*' globs ("*.quay.io", "quay-*.example.com"), and PATH (a repository
// prefix) is letters, digits and ". _ - /". The kubelet takes far more ("a,b", "quay.io?x"),
// but nothing more can match an image a pod names.
[[nodiscard]] bool is_match_image_pattern(std::string_view pattern);

}  // namespace qcp::core

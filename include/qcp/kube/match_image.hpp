#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// The kubelet's matchImages grammar (pkg/credentialprovider keyring.go): pattern and image are
// both parsed as the URL "https://<text>"; they match when the ports are equal (absent = absent),
// the hosts have as many dot-separated labels and each pattern label shell-globs the image label,
// and the image path starts with the pattern path (a raw prefix, no globbing).

struct MatchImageVerdict {
  // The kubelet refuses to start with this pattern (its URL does not parse).
  std::optional<std::string> invalid;
  // The kubelet accepts the pattern but it cannot match the image a pod names.
  std::optional<std::string> never_matches;
  // It matches, but not as written: the kubelet drops a query, fragment, user information or a
  // bare trailing ':' before matching.
  std::optional<std::string> unusual;
};

MatchImageVerdict check_match_image(std::string_view pattern);

// Whether the kubelet would call a provider with this matchImages entry for this image (as it
// appears in the request: normalized, no tag or digest). A pattern error is no match.
bool match_image(std::string_view pattern, std::string_view image);

// An image as a pod names it, as the kubelet looks it up: "busybox" is
// "docker.io/library/busybox", "team/app" is "docker.io/team/app", "index.docker.io/x/y" is
// "docker.io/x/y"; an image with a registry is kept. Tag and digest are left alone.
std::string normalized_image(std::string_view image);

// Go's path.Match on one host label: nullopt when the glob is malformed.
std::optional<bool> glob_match(std::string_view pattern, std::string_view text);

}  // namespace qcp::kube

#include "qcp/core/image.hpp"

#include <algorithm>
#include <array>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"

namespace qcp::core {
namespace {

constexpr std::string_view kDockerHub = "docker.io";

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Docker's rule, which the kubelet applies before we see the image: the first path component is
// a registry only if it looks like a host (a dot, a port, or localhost).
bool looks_like_registry(std::string_view component) {
  return component.find_first_of(".:[") != std::string_view::npos || component == "localhost";
}

}  // namespace

bool is_match_image_pattern(std::string_view pattern) {
  const auto slash = pattern.find('/');
  const auto path =
      slash == std::string_view::npos ? std::string_view() : pattern.substr(slash + 1);
  const auto path_char = [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '/';
  };
  if (!std::all_of(path.begin(), path.end(), path_char)) {
    return false;
  }
  // A glob stands for at least one label character: the host is valid with each '*' as one.
  std::string host(pattern.substr(0, slash));
  if (host.starts_with('[')) {
    return is_valid_host_port(host);
  }
  std::replace(host.begin(), host.end(), '*', 'x');
  return is_valid_host_port(host);
}

std::string registry_of_image(std::string_view image) {
  const auto slash = image.find('/');
  if (slash == std::string_view::npos) {
    return std::string(kDockerHub);
  }
  const auto first = image.substr(0, slash);
  if (!looks_like_registry(first)) {
    return std::string(kDockerHub);
  }
  if (!is_valid_host_port(first)) {
    throw Failure(ExitCode::kBadRequest,
                  "the image's registry is not a valid host[:port] (DNS name, IPv4 or [IPv6], "
                  "optional port)");
  }
  return std::string(first);
}

}  // namespace qcp::core

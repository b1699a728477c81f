#include "qcp/core/image.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

constexpr std::string_view kDockerHub = "docker.io";

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back())) {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    if (!is_dns_label(name.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool is_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || port.front() == '0') {
    return false;
  }
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

bool is_ipv6_literal(std::string_view text) {
  std::array<char, 64> buffer{};
  std::array<unsigned char, 16> address{};
  if (text.empty() || text.size() >= buffer.size()) {
    return false;
  }
  // inet_pton stops at a NUL: check the alphabet first so nothing can hide behind one (found by
  // fuzz/image_fuzz). Zone identifiers ("%eth0") are not valid in a host name either.
  const auto ipv6_char = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
  };
  if (!std::all_of(text.begin(), text.end(), ipv6_char)) {
    return false;
  }
  std::copy(text.begin(), text.end(), buffer.begin());
  return inet_pton(AF_INET6, buffer.data(), address.data()) == 1;
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

bool is_valid_host_port(std::string_view host_port) {
  std::string_view host = host_port;
  std::string_view port;
  bool has_port = false;
  if (host_port.starts_with('[')) {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos || !is_ipv6_literal(host_port.substr(1, close - 1))) {
      return false;
    }
    const auto rest = host_port.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      return is_port(rest.substr(1));
    }
    return true;
  }
  const auto colon = host_port.find(':');
  if (colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    has_port = true;
  }
  return is_dns_name(host) && (!has_port || is_port(port));
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

}  // namespace qcp

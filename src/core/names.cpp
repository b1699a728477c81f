#include "qcp/core/names.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>

namespace qcp::core {
namespace {

constexpr std::size_t kMaxName = 253;
constexpr std::size_t kMaxLabel = 63;
constexpr unsigned kMaxPort = 65535;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// Dot-separated labels, each passing `label`, within kMaxName characters.
template <typename Label>
bool all_labels(std::string_view text, Label label) {
  if (text.empty() || text.size() > kMaxName) {
    return false;
  }
  for (std::size_t start = 0;;) {
    const auto dot = text.find('.', start);
    if (!label(text.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

template <typename Alnum>
bool is_label(std::string_view label, Alnum alnum) {
  return !label.empty() && alnum(label.front()) && alnum(label.back()) &&
         std::all_of(label.begin(), label.end(), [&](char c) { return alnum(c) || c == '-'; });
}

}  // namespace

bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.front() == '0') {
    return false;
  }
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= kMaxPort;
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

bool is_dns_name(std::string_view text) {
  return all_labels(text, [](std::string_view label) {
    return label.size() <= kMaxLabel && is_label(label, is_alnum);
  });
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
    return rest.empty() || (rest.front() == ':' && is_port(rest.substr(1)));
  }
  if (const auto colon = host_port.find(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    has_port = true;
  }
  return is_dns_name(host) && (!has_port || is_port(port));
}

bool is_dns_subdomain(std::string_view text) {
  return all_labels(text, [](std::string_view label) { return is_label(label, is_lower_alnum); });
}

}  // namespace qcp::core

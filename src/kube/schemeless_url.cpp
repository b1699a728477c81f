#include "kube/schemeless_url.hpp"

#include <arpa/inet.h>

namespace qcp::kube {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Go's rule for a host: every ASCII byte must be alphanumeric or one of these (glob characters
// `*`, `[`, `]` included); `%` escapes are allowed only as %25 or for non-ASCII bytes.
std::optional<std::string> host_character_problem(std::string_view host) {
  constexpr std::string_view kAllowed = "!$&'()*+,;=:[]<>\"-_.~";
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (c == '%') {
      if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2]) ||
          (host[i + 1] < '8' && host.substr(i, 3) != "%25")) {
        return "invalid URL escape in the host";
      }
      i += 2;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x80 && !is_alnum(c) &&
        kAllowed.find(c) == std::string_view::npos) {
      return std::string("invalid character '") + c + "' in the host";
    }
  }
  return std::nullopt;
}

bool valid_escapes(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

bool valid_optional_port(std::string_view colon_port) {
  if (colon_port.empty()) {
    return true;
  }
  if (colon_port.front() != ':') {
    return false;
  }
  return colon_port.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

// The host[:port] after any userinfo, checked as Go's url.Parse checks it.
std::optional<std::string> host_port_problem(std::string_view authority) {
  std::string_view colon_port;
  // Go's url.Parse (1.24.8+, 1.25.2+): a '[' anywhere but first is an error, and brackets hold
  // an IPv6 address only.
  if (const auto open = authority.rfind('['); open != std::string_view::npos && open > 0) {
    return "invalid IP-literal ('[' only opens a bracketed IPv6 address)";
  }
  if (authority.starts_with('[')) {
    const auto close = authority.rfind(']');
    if (close == std::string_view::npos) {
      return "missing ']' in the host";
    }
    colon_port = authority.substr(close + 1);
    std::string address(authority.substr(1, close - 1));
    address = address.substr(0, address.find("%25"));  // an RFC 6874 zone
    in6_addr parsed{};
    if (address.find('\0') != std::string::npos ||
        ::inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      return "invalid IP-literal (brackets hold an IPv6 address only)";
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    colon_port = authority.substr(colon);
  }
  if (!valid_optional_port(colon_port)) {
    return "invalid port \"" + std::string(colon_port) +
           "\" after the host (ports are digits; globs work in the host only)";
  }
  return host_character_problem(authority);
}

}  // namespace

// Errors are the kubelet's validation errors for matchImages ("match image is invalid").
std::optional<std::string> parse_schemeless(std::string_view text, SchemelessUrl& url) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "it contains a control character";
    }
  }
  if (const auto hash = text.find('#'); hash != std::string_view::npos) {
    url.has_fragment = true;
    if (!valid_escapes(text.substr(hash + 1))) {
      return "invalid URL escape";
    }
    text = text.substr(0, hash);
  }
  if (const auto question = text.find('?'); question != std::string_view::npos) {
    url.has_query = true;
    text = text.substr(0, question);
  }
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : text.substr(slash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.has_userinfo = true;
    constexpr std::string_view kUserinfo = "-._:~!$&'()*+,;=%@";
    for (const char c : authority.substr(0, at)) {
      if (!is_alnum(c) && kUserinfo.find(c) == std::string_view::npos) {
        return "invalid user information before '@'";
      }
    }
    authority = authority.substr(at + 1);
  }
  if (auto problem = host_port_problem(authority)) {
    return problem;
  }
  if (!valid_escapes(path)) {
    return "invalid URL escape in the path";
  }
  url.host = std::string(authority);
  url.path = std::string(path);
  return std::nullopt;
}

void split_host_port(std::string_view host_port, std::string& host, std::string& port) {
  host = std::string(host_port);
  port.clear();
  if (host_port.starts_with('[')) {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':' ||
        host_port.find_first_of("[]", close + 1) != std::string_view::npos) {
      return;
    }
    host = std::string(host_port.substr(1, close - 1));
    port = std::string(host_port.substr(close + 2));
    return;
  }
  const auto colon = host_port.find(':');
  if (colon == std::string_view::npos || host_port.find(':', colon + 1) != std::string_view::npos ||
      host_port.find_first_of("[]") != std::string_view::npos) {
    return;
  }
  host = std::string(host_port.substr(0, colon));
  port = std::string(host_port.substr(colon + 1));
}

std::vector<std::string_view> labels_of(std::string_view host) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    labels.push_back(host.substr(start, dot - start));
    if (dot == std::string_view::npos) {
      return labels;
    }
    start = dot + 1;
  }
}

}  // namespace qcp::kube

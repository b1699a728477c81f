#pragma once

#include <string_view>

namespace qcp::core {

// The one validator each for the names this program takes: every flag, variable, annotation and
// field that holds one of these checks it here, so two places cannot disagree.

// A TCP port: 1-65535 in decimal digits, without a leading zero ("08080" is refused: Go's and
// curl's parsers read it differently).
[[nodiscard]] bool is_port(std::string_view text);

// An IPv6 address as inet_pton reads it, without brackets and without a zone ("%eth0").
[[nodiscard]] bool is_ipv6_literal(std::string_view text);

// A host name (RFC 1123): at most 253 characters, dot-separated labels of 1-63 letters, digits
// and '-', none starting or ending with '-'. An IPv4 address is one too.
[[nodiscard]] bool is_dns_name(std::string_view text);

// host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address. Used for
// the image's registry, the quay.io/host annotation, --allowed-host, proxies and the API server.
[[nodiscard]] bool is_valid_host_port(std::string_view host_port);

// A Kubernetes object name of the DNS-1123 subdomain kind (k8s.io/apimachinery
// IsDNS1123Subdomain): at most 253 characters, dot-separated labels of lower-case letters,
// digits and '-', each starting and ending with a letter or digit. Nodes, Secrets, namespaces'
// objects and the prefix of an annotation key are named so.
[[nodiscard]] bool is_dns_subdomain(std::string_view text);

}  // namespace qcp::core

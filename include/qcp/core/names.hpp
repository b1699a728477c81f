#pragma once

#include <string_view>

namespace qcp {

// A Kubernetes object name of the DNS-1123 subdomain kind (k8s.io/apimachinery
// IsDNS1123Subdomain): at most 253 characters, dot-separated labels of lower-case letters,
// digits and '-', each starting and ending with a letter or digit. Nodes, Secrets, and the
// prefix of an annotation key are named so.
[[nodiscard]] bool is_dns_subdomain(std::string_view text);

}  // namespace qcp

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"

// The URL grammar matchImages entries and images are read by: the kubelet prefixes "https://" and
// calls Go's url.Parse, then splits host and port as keyring.go does.
namespace qcp::kube {

// What Go's url.Parse("https://" + text) keeps, for the parts matching uses.
struct SchemelessUrl {
  std::string host;  // host[:port] as in url.URL.Host
  std::string path;
  bool has_query = false;
  bool has_fragment = false;
  bool has_userinfo = false;
};

// Go's url.Parse("https://" + text); the error is the kubelet's reason for refusing a matchImages
// entry.
std::optional<std::string> parse_schemeless(std::string_view text, SchemelessUrl& url);

// Go's net.SplitHostPort, falling back to (whole, "") on error as keyring.go's SplitURL does.
void split_host_port(std::string_view host_port, std::string& host, std::string& port);

// "a.b.c" -> {"a", "b", "c"}.
std::vector<std::string_view> labels_of(std::string_view host);

}  // namespace qcp::kube

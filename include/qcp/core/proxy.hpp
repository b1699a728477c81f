#pragma once

#include <string>
#include <string_view>

namespace qcp::core {

// A proxy URL from https_proxy/HTTPS_PROXY, checked before libcurl sees it: libcurl's own errors
// for a bad one quote the whole URL, password included.
struct ProxyUrl {
  std::string url;       // as given; handed to libcurl
  std::string display;   // for messages: userinfo replaced by [redacted]
  std::string userinfo;  // "user:password" as given (maybe percent-encoded); empty if none
  std::string password;  // the part of userinfo after ':', as given
};

// [http:// | https://][userinfo@]host[:port][/]; host a name, IPv4 or [IPv6] literal. Throws
// Failure (kUsage) naming `variable` and what is wrong, never quoting the value.
ProxyUrl parse_proxy_url(std::string_view text, std::string_view variable);

}  // namespace qcp::core

#include "qcp/core/proxy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/text.hpp"

namespace qcp::core {
namespace {

bool is_unreserved_or_sub_delim(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
}

}  // namespace

ProxyUrl parse_proxy_url(std::string_view text, std::string_view variable) {
  const auto refuse = [variable](const std::string& why) {
    return Failure(ExitCode::kUsage,
                   std::string(variable) + " is not a usable proxy URL (" + why +
                       "); expected http://[user:password@]host:port (value not shown: it may "
                       "hold a password)");
  };
  ProxyUrl proxy;
  proxy.url = std::string(text);
  std::string_view rest = text;
  std::string scheme = "http";
  if (const auto colon_slashes = rest.find("://"); colon_slashes != std::string_view::npos) {
    scheme = ascii_lower(rest.substr(0, colon_slashes));
    const bool plain_scheme =
        !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' ||
                 c == '.';
        });
    if (!plain_scheme) {
      throw refuse("malformed scheme");
    }
    if (scheme != "http" && scheme != "https") {
      // Name the scheme only when it is a known one: anything else may be a mistyped secret.
      constexpr std::array<std::string_view, 6> kKnown = {"socks4",  "socks4a", "socks5",
                                                          "socks5h", "ftp",     "file"};
      const bool known = std::find(kKnown.begin(), kKnown.end(), scheme) != kKnown.end();
      throw refuse((known ? "scheme " + scheme : std::string("this scheme")) +
                   " is not supported, only http and https");
    }
    rest.remove_prefix(colon_slashes + 3);
  }
  if (rest.ends_with('/')) {
    rest.remove_suffix(1);
  }
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    throw refuse("a proxy URL has no path, query or fragment");
  }
  std::string_view host_port = rest;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    if (!std::all_of(userinfo.begin(), userinfo.end(),
                     [](char c) { return c == ':' || is_unreserved_or_sub_delim(c); })) {
      throw refuse("the user or password has characters that must be percent-encoded");
    }
    proxy.userinfo = std::string(userinfo);
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      proxy.password = std::string(userinfo.substr(colon + 1));
    }
    host_port = rest.substr(at + 1);
  }
  std::string_view host = host_port;
  std::string_view port;
  if (const auto colon = host_port.rfind(':');
      colon != std::string_view::npos && host_port.find(']', colon) == std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (!is_port(port)) {
      throw refuse("the port must be a number from 1 to 65535");
    }
  }
  if (!is_valid_host_port(host)) {
    throw refuse("no valid host name or address");
  }
  proxy.display =
      scheme + "://" + (proxy.userinfo.empty() ? "" : "[redacted]@") + std::string(host_port);
  return proxy;
}

}  // namespace qcp::core

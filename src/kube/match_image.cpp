#include "qcp/kube/match_image.hpp"

#include <arpa/inet.h>

#include <vector>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

// What Go's url.Parse("https://" + text) keeps, for the parts matching uses.
struct SchemelessUrl {
  std::string host;  // host[:port] as in url.URL.Host
  std::string path;
  bool has_query = false;
  bool has_fragment = false;
  bool has_userinfo = false;
};

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
  if (auto problem = host_character_problem(authority)) {
    return problem;
  }
  if (!valid_escapes(path)) {
    return "invalid URL escape in the path";
  }
  url.host = std::string(authority);
  url.path = std::string(path);
  return std::nullopt;
}

// Go's net.SplitHostPort, falling back to (whole, "") on error as keyring.go's SplitURL does.
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

// One element of a character class: a character or an escaped one. Go rejects '-' and ']' here.
std::optional<char> class_char(std::string_view& pattern) {
  if (pattern.empty() || pattern.front() == '-' || pattern.front() == ']') {
    return std::nullopt;
  }
  if (pattern.front() == '\\') {
    pattern.remove_prefix(1);
    if (pattern.empty()) {
      return std::nullopt;
    }
  }
  const char c = pattern.front();
  pattern.remove_prefix(1);
  return c;
}

// Matches one pattern element (not '*') against c; consumes it. nullopt: malformed.
std::optional<bool> match_element(std::string_view& pattern, char c) {
  const char head = pattern.front();
  if (head == '?') {
    pattern.remove_prefix(1);
    return c != '/';
  }
  if (head == '\\') {
    pattern.remove_prefix(1);
    if (pattern.empty()) {
      return std::nullopt;
    }
    const bool same = pattern.front() == c;
    pattern.remove_prefix(1);
    return same;
  }
  if (head != '[') {
    pattern.remove_prefix(1);
    return head == c;
  }
  pattern.remove_prefix(1);
  const bool negated = !pattern.empty() && pattern.front() == '^';
  if (negated) {
    pattern.remove_prefix(1);
  }
  bool matched = false;
  for (int ranges = 0;; ++ranges) {
    if (!pattern.empty() && pattern.front() == ']' && ranges > 0) {
      pattern.remove_prefix(1);
      break;
    }
    const auto low = class_char(pattern);
    if (!low) {
      return std::nullopt;
    }
    char high = *low;
    if (!pattern.empty() && pattern.front() == '-') {
      pattern.remove_prefix(1);
      const auto upper = class_char(pattern);
      if (!upper) {
        return std::nullopt;
      }
      high = *upper;
    }
    matched = matched || (*low <= c && c <= high);
  }
  return matched != negated;
}

// Whether the pattern (without '*') is well formed, as Go checks the rest after a mismatch.
bool well_formed(std::string_view pattern) {
  while (!pattern.empty()) {
    if (pattern.front() == '*') {
      pattern.remove_prefix(1);
      continue;
    }
    if (!match_element(pattern, 'a')) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Go's path.Match as the kubelet uses it per host label: '*' matches any run without '/', '?'
// one character, [...] a class, '\\' escapes; a malformed pattern is an error (nullopt) however
// the text reads. In O(pattern x text): on a mismatch only the last '*' takes one more
// character, which is enough since the pieces between stars have a fixed width. (Trying every
// split at every star, as before, took seconds at 7 stars and never ended at 9.)
std::optional<bool> glob_match(std::string_view pattern, std::string_view text) {
  if (!well_formed(pattern)) {
    return std::nullopt;
  }
  const auto skip_stars = [](std::string_view& rest) {
    while (!rest.empty() && rest.front() == '*') {
      rest.remove_prefix(1);
    }
  };
  std::string_view rest = pattern;
  std::size_t at = 0;
  std::optional<std::string_view> after_star;
  std::size_t star_start = 0;  // the text the last '*' has taken ends here
  while (at < text.size()) {
    if (!rest.empty() && rest.front() == '*') {
      skip_stars(rest);
      after_star = rest;
      star_start = at;
      continue;
    }
    if (!rest.empty()) {
      std::string_view element = rest;
      if (match_element(element, text[at]).value_or(false)) {
        rest = element;
        ++at;
        continue;
      }
    }
    if (after_star && text[star_start] != '/') {
      at = ++star_start;  // the last '*' takes one more character and the rest starts over
      rest = *after_star;
      continue;
    }
    return false;
  }
  skip_stars(rest);
  return rest.empty();
}

MatchImageVerdict check_match_image(std::string_view pattern) {
  MatchImageVerdict verdict;
  SchemelessUrl url;
  if (auto error = parse_schemeless(pattern, url)) {
    verdict.invalid = std::move(error);
    return verdict;
  }
  std::string host;
  std::string port;
  split_host_port(url.host, host, port);
  const auto never = [&verdict](std::string why) {
    verdict.never_matches = std::move(why);
    return verdict;
  };
  if (pattern.find("://") != std::string_view::npos) {
    return never("a scheme is not part of the pattern: write the registry host alone");
  }
  if (host.empty()) {
    return never("there is no registry host");
  }
  // The kubelet parses the entry as a URL first and matches what is left: unusual, not broken.
  if (url.has_query || url.has_fragment) {
    verdict.unusual = "the kubelet reads '?' and '#' as a URL query or fragment and drops them";
  } else if (url.has_userinfo) {
    verdict.unusual = "the kubelet reads the text before '@' as URL user information and drops it";
  } else if (url.host.ends_with(':')) {
    verdict.unusual = "the kubelet drops a ':' without a port";
  }
  if (!url.host.starts_with('[') && url.host.find(':') != url.host.rfind(':')) {
    return never("the host has more than one ':' (an IPv6 address needs brackets: [::1]:5000)");
  }
  if (url.path.find_first_of("*?[") != std::string_view::npos) {
    return never("globs work in the host only: the path \"" + url.path +
                 "\" is a literal prefix, so list the registry host (with its port) instead");
  }
  for (const auto label : labels_of(host)) {
    if (label.empty()) {
      return never("the host has an empty label (a leading, trailing or double '.')");
    }
    if (!well_formed(label)) {
      return never("the glob \"" + std::string(label) + "\" is malformed");
    }
  }
  return verdict;
}

std::string normalized_image(std::string_view image) {
  // As the kubelet's reference parser (docker/distribution's ParseNormalizedNamed) does: a first
  // component that is not a registry (no '.', no ':', not localhost) means Docker Hub, and a
  // Docker Hub name without a namespace is in library/.
  const auto slash = image.find('/');
  const std::string_view first = image.substr(0, slash);
  const bool has_registry =
      slash != std::string_view::npos && (first.find_first_of(".:") != std::string_view::npos ||
                                          first == "localhost" || first.starts_with('['));
  std::string registry = "docker.io";
  std::string_view remainder = image;
  if (has_registry) {
    registry = std::string(first);
    remainder = image.substr(slash + 1);
  }
  if (registry == "index.docker.io") {
    registry = "docker.io";
  }
  if (registry == "docker.io" && remainder.find('/') == std::string_view::npos) {
    return registry + "/library/" + std::string(remainder);
  }
  return registry + "/" + std::string(remainder);
}

bool match_image(std::string_view pattern, std::string_view image) {
  SchemelessUrl glob;
  SchemelessUrl target;
  if (parse_schemeless(pattern, glob) || parse_schemeless(image, target)) {
    return false;
  }
  std::string glob_host;
  std::string glob_port;
  std::string target_host;
  std::string target_port;
  split_host_port(glob.host, glob_host, glob_port);
  split_host_port(target.host, target_host, target_port);
  if (glob_port != target_port) {
    return false;
  }
  const auto glob_labels = labels_of(glob_host);
  const auto target_labels = labels_of(target_host);
  if (glob_labels.size() != target_labels.size()) {
    return false;
  }
  for (std::size_t i = 0; i < glob_labels.size(); ++i) {
    const auto matched = glob_match(glob_labels[i], target_labels[i]);
    if (!matched || !*matched) {
      return false;
    }
  }
  return target.path.starts_with(glob.path);
}

}  // namespace qcp::kube

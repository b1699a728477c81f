#include "qcp/kube/match_image.hpp"

#include <vector>

#include "kube/schemeless_url.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

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

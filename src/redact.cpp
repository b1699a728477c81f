#include "qcp/redact.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace qcp {
namespace {

// Fragments shorter than this are too common to scrub meaningfully (and too short to leak).
constexpr std::size_t kMinFragment = 8;
// Runs of base64url characters this long are treated as credential material: no word of a
// human message is that long.
constexpr std::size_t kMaxPlainRun = 40;
constexpr std::string_view kMarker = "[redacted]";

bool is_base64url_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '=' || c == '.';
}

void replace_all(std::string& text, std::string_view needle) {
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at)) {
    text.replace(at, needle.size(), kMarker);
    at += kMarker.size();
  }
}

}  // namespace

void Redactor::add_secret(std::string_view secret) {
  if (secret.size() >= kMinFragment) {
    fragments_.emplace_back(secret);
  }
  std::size_t start = 0;
  while (start <= secret.size()) {
    const auto dot = std::min(secret.find('.', start), secret.size());
    const auto segment = secret.substr(start, dot - start);
    if (segment.size() >= kMinFragment && segment.size() != secret.size()) {
      fragments_.emplace_back(segment);
    }
    start = dot + 1;
  }
  // Longest first, so a whole token is replaced before any of its parts.
  std::sort(fragments_.begin(), fragments_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

std::string Redactor::scrub(std::string_view text, std::size_t max_length) const {
  std::string out;
  out.reserve(std::min(text.size(), max_length + 3));
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7F ? ' ' : c);  // one line, no terminal escapes
  }
  for (const auto& fragment : fragments_) {
    replace_all(out, fragment);
  }
  // Anything long and token-shaped that we did not know about (e.g. another JWT).
  std::string result;
  std::size_t i = 0;
  while (i < out.size()) {
    std::size_t j = i;
    while (j < out.size() && is_base64url_char(out[j])) {
      ++j;
    }
    if (j - i > kMaxPlainRun) {
      result += kMarker;
    } else {
      result.append(out, i, j - i);
    }
    if (j < out.size()) {
      result.push_back(out[j]);
      ++j;
    }
    i = j;
  }
  if (result.size() > max_length) {
    result.resize(max_length);
    result += "...";
  }
  return result;
}

void wipe(std::string& secret) noexcept {
  // The whole capacity: earlier, longer contents may still sit past size().
  secret.resize(secret.capacity());
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

std::string short_hash(std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(secret.data(), secret.size(), digest.data(), &length, EVP_sha256(), nullptr) !=
      1) {
    return "unavailable";
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 6 && i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4U]);
    out.push_back(kHex[digest[i] & 0x0FU]);
  }
  return out;
}

}  // namespace qcp

#include "qcp/core/redact.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace qcp::core {
namespace {

// Fragments shorter than this are too common to scrub meaningfully (and too short to leak).
constexpr std::size_t kMinFragment = 8;
// Runs of base64url characters this long are treated as credential material: no word of a
// human message is that long.
constexpr std::size_t kMaxPlainRun = 40;
constexpr std::string_view kMarker = "[redacted]";
// Any run this long that occurs in a secret is scrubbed, wherever it starts in the secret.
constexpr std::size_t kMinPiece = 16;

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
  if (secret.size() >= kMinPiece) {
    secrets_.emplace_back(secret);
  }
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

void Redactor::add_literal(std::string_view literal) {
  if (!literal.empty()) {
    fragments_.emplace_back(literal);
    std::sort(fragments_.begin(), fragments_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
}

std::string Redactor::scrub(std::string_view text, std::size_t max_length) const {
  // Only the head is ever shown: scrubbing more would only cost time (an answer may be 1 MiB).
  std::string out =
      one_line(text.substr(0, std::min(text.size(), std::max<std::size_t>(4 * max_length, 4096))));
  out = mark_pieces(out);
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

// Every run of kMinPiece or more characters that occurs in a registered secret, found by its
// windows of kMinPiece: a run is a piece of a secret exactly when each of its windows is.
std::string Redactor::mark_pieces(const std::string& text) const {
  if (secrets_.empty() || text.size() < kMinPiece) {
    return text;
  }
  std::vector<bool> secret_byte(text.size(), false);
  const std::string_view view(text);
  for (std::size_t i = 0; i + kMinPiece <= text.size(); ++i) {
    const auto window = view.substr(i, kMinPiece);
    for (const auto& secret : secrets_) {
      if (secret.find(window) != std::string::npos) {
        std::fill_n(secret_byte.begin() + static_cast<std::ptrdiff_t>(i), kMinPiece, true);
        break;
      }
    }
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!secret_byte[i]) {
      out.push_back(text[i]);
    } else if (i == 0 || !secret_byte[i - 1]) {
      out += kMarker;
    }
  }
  return out;
}

Redactor::~Redactor() {
  for (auto& secret : secrets_) {
    wipe(secret);
  }
  for (auto& fragment : fragments_) {
    wipe(fragment);
  }
}

namespace {

// A code point that changes how text reads without showing itself: C1 controls, bidi embedding
// and override marks, line/paragraph separators, zero-width characters, the BOM.
bool is_invisible(char32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9F) || code_point == 0x061C ||
         (code_point >= 0x200B && code_point <= 0x200F) ||
         (code_point >= 0x2028 && code_point <= 0x202E) ||
         (code_point >= 0x2066 && code_point <= 0x2069) || code_point == 0xFEFF;
}

// Length of the well-formed UTF-8 sequence at text[at] (2-4), or 0; its code point in `out`.
std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t& out) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t length = 0;
  char32_t minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    minimum = 0x80;
    out = lead & 0x1FU;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    minimum = 0x800;
    out = lead & 0x0FU;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    minimum = 0x10000;
    out = lead & 0x07U;
  } else {
    return 0;
  }
  if (at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0U) != 0x80U) {
      return 0;
    }
    out = (out << 6U) | (next & 0x3FU);
  }
  const bool surrogate = out >= 0xD800 && out <= 0xDFFF;
  return (out < minimum || out > 0x10FFFF || surrogate) ? 0 : length;
}

void append_hex(std::string& out, std::string_view prefix, std::uint32_t value, int digits) {
  constexpr std::string_view kHex = "0123456789abcdef";
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> static_cast<unsigned>(shift)) & 0xFU]);
  }
}

}  // namespace

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(text[i++]);
      continue;
    }
    char32_t code_point = 0;
    const std::size_t length = byte >= 0x80 ? utf8_sequence(text, i, code_point) : 0;
    if (length == 0) {
      append_hex(out, "\\x", byte, 2);  // C0 control, DEL, or a byte that is not UTF-8
      ++i;
    } else if (is_invisible(code_point)) {
      append_hex(out, "\\u", static_cast<std::uint32_t>(code_point), 4);
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

void wipe(std::string& secret) noexcept {
  // The whole capacity: earlier, longer contents may still sit past size().
  secret.resize(secret.capacity());
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return "unavailable";
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4U]);
    out.push_back(kHex[digest[i] & 0x0FU]);
  }
  return out;
}

std::string short_hash(std::string_view secret) {
  constexpr std::size_t kShown = 12;
  return sha256_hex(secret).substr(0, kShown);
}

}  // namespace qcp::core

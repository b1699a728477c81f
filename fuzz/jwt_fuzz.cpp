// Fuzzes the unverified JWT claim decoder, base64url and the Redactor, which together handle
// tokens and Quay's messages before anything is logged.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - decode_jwt_claims succeeds only on text with exactly two dots (header.payload.signature);
//   - base64url_decode(encode(bytes)) == bytes, with and without '=' padding;
//   - Redactor::scrub never outputs a control character (< 0x20), and a registered secret of at
//     least 8 bytes without '.' (so registered whole, as one fragment) never survives scrubbing.
// Any exception escapes LLVMFuzzerTestOneInput and aborts: also a crash.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"

namespace {

constexpr std::string_view kMarker = "[redacted]";

// RFC 4648 §5 base64url, written independently of the code under test.
std::string base64url_encode(std::string_view bytes, bool pad) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    const auto b1 = static_cast<unsigned char>(bytes[i + 1]);
    const auto b2 = static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[b0 >> 2U]);
    out.push_back(kAlphabet[((b0 & 0x03U) << 4U) | (b1 >> 4U)]);
    out.push_back(kAlphabet[((b1 & 0x0FU) << 2U) | (b2 >> 6U)]);
    out.push_back(kAlphabet[b2 & 0x3FU]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    out.push_back(kAlphabet[b0 >> 2U]);
    out.push_back(kAlphabet[(b0 & 0x03U) << 4U]);
    if (pad) {
      out += "==";
    }
  } else if (rest == 2) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    const auto b1 = static_cast<unsigned char>(bytes[i + 1]);
    out.push_back(kAlphabet[b0 >> 2U]);
    out.push_back(kAlphabet[((b0 & 0x03U) << 4U) | (b1 >> 4U)]);
    out.push_back(kAlphabet[(b1 & 0x0FU) << 2U]);
    if (pad) {
      out += "=";
    }
  }
  return out;
}

void check_round_trip(std::string_view bytes, bool pad) {
  const auto decoded = qcp::base64url_decode(base64url_encode(bytes, pad));
  qcp_fuzz::check(decoded.has_value(), "base64url_decode accepts what a base64url encoder wrote");
  qcp_fuzz::check(*decoded == bytes, "base64url_decode(encode(bytes)) == bytes");
}

// True if `secret` occurs in `scrubbed` outside the redaction markers. The scrubber's own
// "[redacted]" may, next to the message's text, spell a secret that was in fact replaced (e.g. the
// secret "redacted"), so the check looks at the text between markers only.
bool survives(std::string_view scrubbed, std::string_view secret) {
  std::size_t start = 0;
  while (true) {
    const auto marker = scrubbed.find(kMarker, start);
    const auto piece = scrubbed.substr(
        start, marker == std::string_view::npos ? std::string_view::npos : marker - start);
    if (piece.find(secret) != std::string_view::npos) {
      return true;
    }
    if (marker == std::string_view::npos) {
      return false;
    }
    start = marker + kMarker.size();
  }
}

void check_scrubbed(std::string_view scrubbed, std::string_view secret) {
  qcp_fuzz::check(std::none_of(scrubbed.begin(), scrubbed.end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
                  "Redactor::scrub outputs no control character");
  if (secret.size() >= 8 && secret.find('.') == std::string_view::npos) {
    qcp_fuzz::check(!survives(scrubbed, secret), "a registered secret does not survive scrub");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Claims: only header.payload.signature may decode.
  if (const auto claims = qcp::decode_jwt_claims(text)) {
    qcp_fuzz::check(std::count(text.begin(), text.end(), '.') == 2,
                    "decode_jwt_claims succeeds only with exactly two dots");
  }

  // base64url: whatever the input, decoding must not crash; encoding the input's bytes and
  // decoding them back must give the same bytes.
  static_cast<void>(qcp::base64url_decode(text));
  check_round_trip(text, /*pad=*/false);
  check_round_trip(text, /*pad=*/true);

  // Redactor: the input as a token, embedded in a message such as Quay might send back.
  qcp::Redactor redactor;
  redactor.add_secret(text);
  const std::string message = "quay said: invalid token " + std::string(text) + "\n(rejected)";
  check_scrubbed(redactor.scrub(message), text);  // default cap: 300 characters
  check_scrubbed(redactor.scrub(message, message.size() + 16), text);  // no truncation
  return 0;
}

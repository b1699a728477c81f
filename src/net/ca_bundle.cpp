#include "qcp/net/ca_bundle.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

// ---- PEM and base64 ---------------------------------------------------------------------------

constexpr std::array<std::string_view, 3> kCertificateLabels = {"CERTIFICATE", "X509 CERTIFICATE",
                                                                "TRUSTED CERTIFICATE"};

constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& value : table) {
    value = -1;
  }
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  for (const char space : {' ', '\t', '\r', '\n'}) {
    table[static_cast<unsigned char>(space)] = -2;
  }
  table['='] = -3;
  return table;
}
constexpr auto kBase64 = make_base64_table();

// Decodes base64 text a piece at a time, so a subject costs a few hundred bytes of decoding.
class Base64Reader {
 public:
  explicit Base64Reader(std::string_view text) : text_(text) {}

  // Decodes until `out` holds `wanted` bytes or the text ends; false on a byte that is not base64.
  bool read_until(std::vector<std::uint8_t>& out, std::size_t wanted) {
    std::size_t size = out.size();
    const auto* at = reinterpret_cast<const unsigned char*>(text_.data()) + at_;
    const auto* end = reinterpret_cast<const unsigned char*>(text_.data()) + text_.size();
    wanted = std::min(wanted, size + static_cast<std::size_t>(end - at));  // at most 1 byte/char
    out.resize(wanted + 2);  // a group of four may end two bytes past `wanted`
    std::uint8_t* bytes = out.data();
    // Locals, not members: stores through `bytes` may alias any member, which would force a
    // reload of each on every byte.
    std::uint32_t bits = bits_;
    int count = count_;
    bool padded = padded_;
    bool valid = true;
    while (size < wanted && at != end) {
      // Fast path: four alphabet characters (a line holds sixteen such groups) make three bytes.
      if (count == 0 && !padded && end - at >= 4) {
        const int a = kBase64[at[0]];
        const int b = kBase64[at[1]];
        const int c = kBase64[at[2]];
        const int d = kBase64[at[3]];
        if ((a | b | c | d) >= 0) {
          const auto group = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
          bytes[size] = static_cast<std::uint8_t>(group >> 16U);
          bytes[size + 1] = static_cast<std::uint8_t>((group >> 8U) & 0xffU);
          bytes[size + 2] = static_cast<std::uint8_t>(group & 0xffU);
          size += 3;
          at += 4;
          continue;
        }
      }
      const std::int8_t value = kBase64[*at++];
      if (value == -2) {
        continue;  // line breaks and spaces
      }
      if (value == -3) {
        padded = true;  // only padding and space may follow '='
        continue;
      }
      if (value < 0 || padded) {
        valid = false;
        break;
      }
      bits = (bits << 6U) | static_cast<std::uint32_t>(value);
      count += 6;
      if (count >= 8) {
        count -= 8;
        bytes[size++] = static_cast<std::uint8_t>((bits >> count) & 0xffU);
      }
      if (count == 0) {
        bits = 0;  // back on a group boundary: the fast path may resume
      }
    }
    bits_ = bits;
    count_ = count;
    padded_ = padded;
    out.resize(size);
    at_ = static_cast<std::size_t>(at - reinterpret_cast<const unsigned char*>(text_.data()));
    return valid;
  }
  [[nodiscard]] bool at_end() const { return at_ >= text_.size(); }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
  std::uint32_t bits_ = 0;
  int count_ = 0;
  bool padded_ = false;
};

std::string_view trim_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return line;
}

// The line starting at `at` (without its newline) and where the next line starts.
std::string_view line_at(std::string_view text, std::size_t at, std::size_t& next) {
  const std::size_t newline = text.find('\n', at);
  next = newline == std::string_view::npos ? text.size() : newline + 1;
  return text.substr(at, (newline == std::string_view::npos ? text.size() : newline) - at);
}

// The subject key of a block's body: its subject read from a decoded prefix, grown only when the
// subject lies further in. nullopt: no DER certificate (X.509 requires DER), skipped.
std::optional<std::string> subject_key_of(std::string_view body) {
  Base64Reader reader(body);
  std::vector<std::uint8_t> prefix;
  prefix.reserve(1024);
  std::size_t wanted = 256;  // half of a distribution's roots have their subject in it
  for (;;) {
    if (!reader.read_until(prefix, wanted)) {
      return std::nullopt;  // not base64: not a certificate for OpenSSL either
    }
    const SubjectScan scan = find_subject(prefix);
    if (scan.subject) {
      return fold_name(*scan.subject);  // "" for a name only OpenSSL can compare
    }
    if (scan.needed == 0 || scan.needed <= prefix.size() || reader.at_end()) {
      return std::nullopt;
    }
    wanted = scan.needed;
  }
}

}  // namespace

CaBundle::CaBundle(std::string pem) : pem_(std::move(pem)) {
  const std::string_view text(pem_);
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::size_t next = 0;
  for (std::size_t at = text.find(kBegin); at != std::string_view::npos;
       at = text.find(kBegin, next)) {
    const std::string_view line = trim_line_end(line_at(text, at, next));
    if ((at != 0 && text[at - 1] != '\n') || !line.ends_with("-----") ||
        line.size() < kBegin.size() + 5) {
      continue;  // OpenSSL reads a BEGIN line only at the start of a line
    }
    const std::string_view label = line.substr(kBegin.size(), line.size() - kBegin.size() - 5);
    if (std::find(kCertificateLabels.begin(), kCertificateLabels.end(), label) ==
        kCertificateLabels.end()) {
      continue;
    }
    // The body runs to the first line that starts with dashes; it must be this block's END.
    const std::size_t body_begin = next;
    const std::size_t dashes =
        body_begin == text.size() || text.compare(body_begin, 5, "-----") == 0
            ? body_begin
            : text.find("\n-----", body_begin);
    if (dashes == std::string_view::npos || dashes >= text.size()) {
      break;  // unterminated: nothing after it can be a block either
    }
    const std::size_t body_end = text[dashes] == '\n' ? dashes + 1 : dashes;
    std::size_t after_end = 0;
    const std::string_view end_line = trim_line_end(line_at(text, body_end, after_end));
    if (end_line.size() != label.size() + 14 || !end_line.starts_with("-----END ") ||
        end_line.substr(9, label.size()) != label || !end_line.ends_with("-----")) {
      next = body_end;  // a block without its END: skipped, the dashed line is read again
      continue;
    }
    next = after_end;
    const std::string_view body = text.substr(body_begin, body_end - body_begin);
    if (auto key = subject_key_of(body)) {
      entries_.push_back(Entry{.body_begin = body_begin,
                               .body_end = body_end,
                               .trust_settings = label == "TRUSTED CERTIFICATE",
                               .subject_key = std::move(*key)});
    }
  }
}

std::vector<CaBundle::Candidate> CaBundle::candidates(
    std::span<const std::uint8_t> name_der) const {
  const std::string wanted = fold_name(name_der);
  std::vector<Candidate> found;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const KeyMatch match = keys_match(wanted, entries_[i].subject_key);
    if (match != KeyMatch::kNo) {
      found.push_back(Candidate{.index = i, .certain = match == KeyMatch::kYes});
    }
  }
  return found;
}

std::optional<std::vector<std::uint8_t>> CaBundle::der(std::size_t index) const {
  const Entry& entry = entries_.at(index);
  Base64Reader reader(
      std::string_view(pem_).substr(entry.body_begin, entry.body_end - entry.body_begin));
  std::vector<std::uint8_t> bytes;
  bytes.reserve((entry.body_end - entry.body_begin) * 3 / 4);
  if (!reader.read_until(bytes, SIZE_MAX)) {
    return std::nullopt;
  }
  return bytes;
}

bool CaBundle::has_trust_settings(std::size_t index) const {
  return entries_.at(index).trust_settings;
}

}  // namespace qcp::net

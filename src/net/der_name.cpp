#include "qcp/net/der_name.hpp"

#include <algorithm>
#include <array>

#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

// ---- DER: just enough to walk to a certificate's subject and through a Name ---------------------

struct Tlv {
  std::uint8_t tag = 0;
  std::size_t header = 0;  // tag and length bytes
  std::size_t length = 0;  // content bytes
  [[nodiscard]] std::size_t end(std::size_t at) const { return at + header + length; }
};

enum class Read { kOk, kShort, kBad };

// Reads the tag and definite length at `at`. kShort: `needed` bytes would hold the header.
Read read_header(std::span<const std::uint8_t> data, std::size_t at, Tlv& tlv,
                 std::size_t& needed) {
  if (data.size() < at + 2) {
    needed = at + 2;
    return Read::kShort;
  }
  tlv.tag = data[at];
  if ((tlv.tag & 0x1fU) == 0x1fU) {
    return Read::kBad;  // high tag numbers appear nowhere on the way to a subject
  }
  const std::uint8_t first = data[at + 1];
  if (first < 0x80U) {
    tlv.header = 2;
    tlv.length = first;
    return Read::kOk;
  }
  const std::size_t count = first & 0x7fU;
  if (count == 0 || count > 3) {
    return Read::kBad;  // indefinite length (BER) or a length no bundle needs
  }
  if (data.size() < at + 2 + count) {
    needed = at + 2 + count;
    return Read::kShort;
  }
  tlv.length = 0;
  for (std::size_t i = 0; i < count; ++i) {
    tlv.length = (tlv.length << 8U) | data[at + 2 + i];
  }
  tlv.header = 2 + count;
  return Read::kOk;
}

// Reads the whole element at `at` inside [at, limit); false when it is malformed or overruns.
bool read_element(std::span<const std::uint8_t> data, std::size_t at, std::size_t limit, Tlv& tlv) {
  std::size_t needed = 0;
  return read_header(data, at, tlv, needed) == Read::kOk && tlv.end(at) <= limit;
}

// ---- Folding: OpenSSL's canonical form of a Name, for the cases where it is plain ASCII -------

constexpr std::uint8_t kUtf8String = 0x0c;
constexpr std::uint8_t kPrintableString = 0x13;
constexpr std::uint8_t kT61String = 0x14;
constexpr std::uint8_t kIa5String = 0x16;
constexpr std::uint8_t kVisibleString = 0x1a;

// X509_NAME_cmp compares canonical encodings: each string value converted to UTF-8, leading and
// trailing space dropped, inner runs of space made one ' ', ASCII lower-cased. For ASCII values of
// the string types that is computed here; anything else (other types, bytes >= 0x80, BMP and
// Universal strings) is a wildcard the caller settles with OpenSSL itself.
// A byte's folded form, or one of two marks (never ASCII, so never a folded byte).
constexpr std::uint8_t kNotAscii = 0x80;
constexpr std::uint8_t kSpace = 0x81;  // OpenSSL's isspace: ' ', \t, \n, \v, \f, \r

constexpr std::array<std::uint8_t, 256> make_fold_table() {
  std::array<std::uint8_t, 256> table{};
  for (std::size_t c = 0; c < table.size(); ++c) {
    const bool space = c == ' ' || (c >= '\t' && c <= '\r');
    const bool upper = c >= 'A' && c <= 'Z';
    table[c] = c >= 0x80 ? kNotAscii
               : space   ? kSpace
               : upper   ? static_cast<std::uint8_t>(c - 'A' + 'a')
                         : static_cast<std::uint8_t>(c);
  }
  return table;
}
constexpr auto kFold = make_fold_table();

bool is_string_type(std::uint8_t tag) {
  return tag == kUtf8String || tag == kPrintableString || tag == kT61String || tag == kIa5String ||
         tag == kVisibleString;
}

// Key layout: 'N', then per attribute: OID length (1 byte), OID, then 'v' + folded value length
// (2 bytes, big-endian) + folded value, or '*' for a wildcard value. Written through a pointer
// into room reserved by the caller: a key is never longer than its DER Name (each attribute's
// DER headers take 8 bytes or more, its key header 4 or 2).
char* append_attribute(char* key, std::span<const std::uint8_t> oid, std::uint8_t tag,
                       std::span<const std::uint8_t> value) {
  *key++ = static_cast<char>(oid.size());
  key = std::copy(oid.begin(), oid.end(), key);
  char* const marker = key;
  if (!is_string_type(tag) || value.size() > 0xffff) {
    *marker = '*';
    return marker + 1;
  }
  *key++ = 'v';
  char* const length = key;
  key += 2;
  char* const folded = key;
  bool space_pending = false;  // dropped at the end: trailing space is trimmed
  for (const std::uint8_t c : value) {
    const std::uint8_t f = kFold[c];
    if (f == kNotAscii) {
      *marker = '*';
      return marker + 1;
    }
    if (f == kSpace) {
      space_pending = key != folded;  // leading space is trimmed
      continue;
    }
    if (space_pending) {
      *key++ = ' ';
      space_pending = false;
    }
    *key++ = static_cast<char>(f);
  }
  const auto size = static_cast<std::size_t>(key - folded);
  length[0] = static_cast<char>(size >> 8U);
  length[1] = static_cast<char>(size & 0xffU);
  return key;
}

}  // namespace

SubjectScan find_subject(std::span<const std::uint8_t> data) {
  SubjectScan scan;
  std::size_t at = 0;
  Tlv tlv;
  enum class Step { kMatch, kOther, kStop };
  // Reads the header at `at`; kStop: too short (scan.needed says how much would do) or malformed.
  const auto header_is = [&](std::uint8_t tag) {
    const Read read = read_header(data, at, tlv, scan.needed);
    if (read == Read::kBad) {
      scan.needed = 0;
    }
    if (read != Read::kOk) {
      return Step::kStop;
    }
    return tlv.tag == tag ? Step::kMatch : Step::kOther;
  };
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
  //   signature, issuer, validity, subject, ... } ... }
  for (int level = 0; level < 2; ++level) {
    if (header_is(0x30) != Step::kMatch) {
      return scan;
    }
    at += tlv.header;
  }
  const Step version = header_is(0xa0);
  if (version == Step::kStop) {
    return scan;
  }
  if (version == Step::kMatch) {
    at = tlv.end(at);
  }
  for (const std::uint8_t skipped :
       {std::uint8_t{0x02}, std::uint8_t{0x30}, std::uint8_t{0x30}, std::uint8_t{0x30}}) {
    if (header_is(skipped) != Step::kMatch) {
      return scan;
    }
    at = tlv.end(at);
  }
  if (header_is(0x30) != Step::kMatch) {
    return scan;
  }
  if (data.size() < tlv.end(at)) {
    scan.needed = tlv.end(at);
    return scan;
  }
  scan.subject = data.subspan(at, tlv.header + tlv.length);
  return scan;
}

std::string fold_name(std::span<const std::uint8_t> name) {
  Tlv outer;
  if (!read_element(name, 0, name.size(), outer) || outer.tag != 0x30 ||
      outer.end(0) != name.size()) {
    return {};
  }
  std::string key(name.size() + 1, '\0');
  key[0] = 'N';
  char* out = key.data() + 1;
  for (std::size_t at = outer.header; at < name.size();) {
    Tlv set;
    Tlv attribute;
    Tlv oid;
    Tlv value;
    if (!read_element(name, at, name.size(), set) || set.tag != 0x31) {
      return {};
    }
    const std::size_t set_end = set.end(at);
    const std::size_t attribute_at = at + set.header;
    // A multi-valued RDN is canonicalised as a sorted SET: left entirely to OpenSSL.
    if (!read_element(name, attribute_at, set_end, attribute) || attribute.tag != 0x30 ||
        attribute.end(attribute_at) != set_end) {
      return {};
    }
    const std::size_t oid_at = attribute_at + attribute.header;
    if (!read_element(name, oid_at, set_end, oid) || oid.tag != 0x06 || oid.length > 0xff) {
      return {};
    }
    const std::size_t value_at = oid.end(oid_at);
    if (!read_element(name, value_at, set_end, value) || value.end(value_at) != set_end) {
      return {};
    }
    out = append_attribute(out, name.subspan(oid_at + oid.header, oid.length), value.tag,
                           name.subspan(value_at + value.header, value.length));
    at = set_end;
  }
  key.resize(static_cast<std::size_t>(out - key.data()));
  return key;
}

KeyMatch keys_match(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) {
    return KeyMatch::kMaybe;
  }
  bool certain = true;
  std::size_t i = 1;
  std::size_t j = 1;
  while (i < a.size() && j < b.size()) {
    const std::size_t oid_length = static_cast<unsigned char>(a[i]);
    if (a.compare(i, oid_length + 1, b, j, oid_length + 1) != 0) {
      return KeyMatch::kNo;
    }
    i += oid_length + 1;
    j += oid_length + 1;
    const bool a_wild = a[i] == '*';
    const bool b_wild = b[j] == '*';
    const auto value_span = [](const std::string& key, std::size_t at) -> std::size_t {
      if (key[at] == '*') {
        return 1;
      }
      const auto high = static_cast<std::size_t>(static_cast<unsigned char>(key[at + 1]));
      const auto low = static_cast<std::size_t>(static_cast<unsigned char>(key[at + 2]));
      return 3 + ((high << 8U) | low);
    };
    const std::size_t a_span = value_span(a, i);
    const std::size_t b_span = value_span(b, j);
    if (a_wild || b_wild) {
      certain = false;
    } else if (a.compare(i, a_span, b, j, b_span) != 0) {
      return KeyMatch::kNo;
    }
    i += a_span;
    j += b_span;
  }
  if (i != a.size() || j != b.size()) {
    return KeyMatch::kNo;  // a different number of attributes
  }
  return certain ? KeyMatch::kYes : KeyMatch::kMaybe;
}

}  // namespace qcp::net

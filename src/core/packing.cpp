#include "qcp/core/packing.hpp"

#include <algorithm>

namespace qcp::core {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

bool lower_hex(std::string_view text) {
  return !text.empty() && text.size() % 2 == 0 && std::all_of(text.begin(), text.end(), [](char c) {
    return kHexDigits.find(c) != std::string_view::npos;
  });
}

}  // namespace

Packer& Packer::count(std::size_t value) {
  // LEB128: seven bits a byte, low bits first; lengths below 128 take one byte.
  while (value >= 0x80) {
    packed_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  packed_.push_back(static_cast<char>(value));
  return *this;
}

Packer& Packer::text(std::string_view value) {
  count(value.size());
  packed_.append(value);
  return *this;
}

Packer& Packer::flag(bool value) {
  packed_.push_back(value ? '\1' : '\0');
  return *this;
}

Packer& Packer::hex(std::string_view value) {
  const bool as_bytes = lower_hex(value);
  flag(as_bytes);
  if (!as_bytes) {
    return text(value);
  }
  count(value.size() / 2);
  for (std::size_t i = 0; i < value.size(); i += 2) {
    packed_.push_back(
        static_cast<char>(kHexDigits.find(value[i]) * 16 + kHexDigits.find(value[i + 1])));
  }
  return *this;
}

std::size_t Unpacker::count() {
  std::size_t value = 0;
  for (unsigned shift = 0; !rest_.empty() && shift < 64; shift += 7) {
    const auto byte = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    value |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      break;
    }
  }
  return value;
}

std::string_view Unpacker::text() {
  const auto claimed = count();  // before rest_.size(): count() consumes the length's bytes
  const auto size = std::min(claimed, rest_.size());
  const auto value = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return value;
}

bool Unpacker::flag() {
  if (rest_.empty()) {
    return false;
  }
  const bool value = rest_.front() != '\0';
  rest_.remove_prefix(1);
  return value;
}

std::string Unpacker::hex() {
  const bool as_bytes = flag();
  const auto value = text();
  if (!as_bytes) {
    return std::string(value);
  }
  std::string digits;
  digits.reserve(value.size() * 2);
  for (const char byte : value) {
    const auto bits = static_cast<unsigned char>(byte);
    digits.push_back(kHexDigits[bits >> 4]);
    digits.push_back(kHexDigits[bits & 0xf]);
  }
  return digits;
}

}  // namespace qcp::core

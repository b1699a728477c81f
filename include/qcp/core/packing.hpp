#pragma once

// Fields written one after another into one string, each a length and then its bytes: how a
// long-lived store keeps a record in one allocation instead of one per field and per map node
// (a ServiceAccount decoded into maps and strings takes about three times the bytes).

#include <cstddef>
#include <string>
#include <string_view>

namespace qcp::core {

class Packer {
 public:
  Packer& text(std::string_view value);
  Packer& count(std::size_t value);
  Packer& flag(bool value);
  // Hex text as its bytes, half the size (a sha256 digest: 32 bytes, not 64); anything else as
  // text. Unpacker::hex gives back the same text.
  Packer& hex(std::string_view value);
  // The record; the packer is empty after.
  [[nodiscard]] std::string take() { return std::move(packed_); }

 private:
  std::string packed_;
};

// Reads what a Packer wrote, in the same order. Reading past the end gives empty values, never
// bytes outside the record.
class Unpacker {
 public:
  explicit Unpacker(std::string_view packed) : rest_(packed) {}
  std::string_view text();
  std::size_t count();
  bool flag();
  std::string hex();

 private:
  std::string_view rest_;
};

}  // namespace qcp::core

#pragma once

// Just enough DER for CaBundle: the subject of a certificate prefix, and a Name's key under
// OpenSSL's canonical comparison.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "qcp/net/namespace.hpp"

namespace qcp::net {

// The subject Name's DER of a DER certificate prefix: nullopt when `prefix` is too short to hold
// it (needed: how many bytes would do) or when the bytes are no certificate (needed stays 0).
struct SubjectScan {
  std::optional<std::span<const std::uint8_t>> subject;
  std::size_t needed = 0;
};
SubjectScan find_subject(std::span<const std::uint8_t> certificate_prefix);

// The folding key of a DER Name (empty when the name cannot be read); keys_match() is the
// necessary condition for X509_NAME_cmp() == 0 that CaBundle::candidates() applies.
std::string fold_name(std::span<const std::uint8_t> name_der);
enum class KeyMatch { kNo, kMaybe, kYes };
KeyMatch keys_match(const std::string& a, const std::string& b);

}  // namespace qcp::net

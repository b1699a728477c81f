#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qcp/net/der_name.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// A PEM bundle of trusted CAs, indexed by subject name without decoding any certificate.
//
// A distribution's bundle holds ~145 CAs and one lookup needs one of them; decoding them all (what
// OpenSSL's file lookup does) costs 12x the rest of the lookup. Each "CERTIFICATE", "TRUSTED
// CERTIFICATE" or "X509 CERTIFICATE" block is indexed by its subject, read from the first few
// hundred decoded bytes; a certificate is decoded in full only when the verifier asks for its
// subject. Blocks of other types, text between blocks, and blocks that are not base64 or whose
// DER does not lead to a subject are skipped (OpenSSL 3.0 refused the whole file for one such
// block); a block whose subject is readable but whose certificate is not is skipped when asked.
class CaBundle {
 public:
  struct Candidate {
    std::size_t index;
    // true: the subject equals the name asked for under OpenSSL's X509_NAME_cmp (same attribute
    // types, ASCII values equal after its case and space folding). false: it may; the caller
    // compares the decoded certificate's subject itself (non-ASCII or non-string values,
    // multi-valued RDNs, names this index could not read).
    bool certain;
  };

  explicit CaBundle(std::string pem);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  // Entries whose subject may be `name_der` (a DER-encoded X.501 Name), in bundle order.
  [[nodiscard]] std::vector<Candidate> candidates(std::span<const std::uint8_t> name_der) const;
  // The whole DER of entry `index`; for a TRUSTED CERTIFICATE the trust settings follow the
  // certificate (d2i_X509_AUX reads both). nullopt: the block is not valid base64.
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> der(std::size_t index) const;
  [[nodiscard]] bool has_trust_settings(std::size_t index) const;

 private:
  struct Entry {
    std::size_t body_begin;  // base64 text, offsets into pem_
    std::size_t body_end;
    bool trust_settings;
    std::string subject_key;  // fold_name() of the subject (der_name.cpp); "": OpenSSL decides
  };
  std::string pem_;
  std::vector<Entry> entries_;
};

}  // namespace qcp::net

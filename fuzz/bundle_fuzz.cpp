// Fuzzes the CA bundle index (CaBundle): the input is a bundle file as a node may hold it.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - an indexed entry that decodes in full (the index reads only a prefix: one whose tail is
//     damaged is indexed and skipped when asked) has its subject in the whole DER;
//   - looking that subject up finds the entry (the index never misses its own certificates);
//   - a name's folding key matches itself, and keys_match is symmetric.
// The input also serves as a DER Name for fold_name and candidates().

#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "qcp/net/ca_bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using qcp_fuzz::check;
  const qcp::CaBundle bundle(std::string(reinterpret_cast<const char*>(data), size));
  for (std::size_t i = 0; i < bundle.size(); ++i) {
    const auto der = bundle.der(i);
    if (!der) {
      continue;
    }
    const auto scan = qcp::find_subject(*der);
    check(scan.subject.has_value(), "an indexed entry's subject is found in its whole DER");
    bool found = false;
    for (const auto& candidate : bundle.candidates(*scan.subject)) {
      found = found || candidate.index == i;
    }
    check(found, "looking up an entry's subject finds the entry");
  }
  const std::span<const std::uint8_t> name(data, size);
  const std::string key = qcp::fold_name(name);
  check(qcp::keys_match(key, key) != qcp::KeyMatch::kNo, "a key matches itself");
  const std::string other = qcp::fold_name(name.subspan(size / 2));
  check(qcp::keys_match(key, other) == qcp::keys_match(other, key), "keys_match is symmetric");
  static_cast<void>(bundle.candidates(name));
  return 0;
}

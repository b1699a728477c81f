// Fuzzes check-config: libyaml and our YAML tree (aliases, tags, typing), the CredentialProvider-
// Config checker and the matchImages grammar, all of which read a file an operator points at.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - check_config never throws, and reports ok() exactly when no finding is an error;
//   - every finding's line lies within the input (0 = the whole file);
//   - a pattern the checker accepts parses as the kubelet parses it: matching it against any
//     image cannot crash, and it matches an image made of its own host (when it has no glob).
// Any exception escapes LLVMFuzzerTestOneInput and aborts: also a crash.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/provider_needs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // YAML breaks lines at LF, CR, CRLF and (UTF-8) NEL, LS and PS: count the bytes that can end
  // one, an upper bound for the last line number.
  const auto lines =
      static_cast<int>(std::count_if(text.begin(), text.end(),
                                     [](char c) {
                                       const auto byte = static_cast<unsigned char>(c);
                                       return byte == '\n' || byte == '\r' || byte == 0x85 ||
                                              byte == 0xA8 || byte == 0xA9;
                                     })) +
      1;

  qcp::ConfigCheckSettings settings;
  settings.images = {"quay.example.com:8443/team/app"};
  const auto report = qcp::check_provider_config(text, settings);
  const bool any_error = std::any_of(report.findings.begin(), report.findings.end(),
                                     [](const auto& finding) { return !finding.warning; });
  qcp_fuzz::check(report.ok() == !any_error, "ok() means no error finding");
  for (const auto& finding : report.findings) {
    qcp_fuzz::check(finding.line >= 0 && finding.line <= lines, "finding lines are in range");
  }

  // The input as one matchImages entry.
  const auto verdict = qcp::check_match_image(text);
  static_cast<void>(qcp::match_image(text, "quay.example.com:8443/team/app"));
  static_cast<void>(qcp::match_image("quay.example.com:8443", text));
  if (!verdict.invalid && !verdict.never_matches &&
      text.find_first_of("*?[]\\/") == std::string_view::npos && !text.empty()) {
    qcp_fuzz::check(qcp::match_image(text, std::string(text) + "/repo"),
                    "an accepted glob-free pattern matches an image on its own host");
  }
  return 0;
}

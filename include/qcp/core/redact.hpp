#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qcp::core {

// Scrubs text that did not come from us (Quay's messages, libcurl's) before it is printed: any
// piece of a registered secret and anything shaped like a JWT is replaced, non-printable
// characters are escaped (one_line) and the length is capped, so one stderr line stays one line.
class Redactor {
 public:
  Redactor() = default;
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;
  Redactor(Redactor&&) = delete;
  Redactor& operator=(Redactor&&) = delete;
  ~Redactor();  // wipes its copies of the secrets

  // Registers a token: any run of 16 or more of its characters, and each dot-separated segment
  // of 8 or more, is scrubbed from then on.
  void add_secret(std::string_view secret);
  // Registers an exact string of any length (e.g. a proxy URL's userinfo).
  void add_literal(std::string_view literal);
  [[nodiscard]] std::string scrub(std::string_view text, std::size_t max_length = 300) const;

 private:
  [[nodiscard]] std::string mark_pieces(const std::string& text) const;

  std::vector<std::string> secrets_;
  std::vector<std::string> fragments_;
};

// Overwrites a secret's bytes (in a way the optimizer keeps) and empties the string.
void wipe(std::string& secret) noexcept;

// Wipes the string when the scope ends, on every path out of it, exceptions included.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& secret) noexcept : secret_(secret) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  WipeOnExit(WipeOnExit&&) = delete;
  WipeOnExit& operator=(WipeOnExit&&) = delete;
  ~WipeOnExit() { wipe(secret_); }

 private:
  std::string& secret_;
};

// Text from outside (claims, config files, messages) as one printable line: C0 controls, DEL and
// bytes that are not UTF-8 become \xNN; C1 controls, bidi overrides, line separators and
// zero-width characters become \uNNNN. It can neither add output lines, forge a log line, nor
// steer a terminal.
std::string one_line(std::string_view text);

// First 12 hex digits of SHA-256: lets logs tell tokens apart without revealing them.
std::string short_hash(std::string_view secret);

// The SHA-256 of `bytes` in lower-case hex ("unavailable" if OpenSSL cannot compute it).
std::string sha256_hex(std::string_view bytes);

}  // namespace qcp::core

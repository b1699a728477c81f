#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qcp {

// Scrubs text that did not come from us (Quay's messages) before it is printed: any registered
// secret fragment and anything shaped like a JWT is replaced, control characters are dropped and
// the length is capped, so one stderr line stays one line.
class Redactor {
 public:
  // Registers a token: the whole of it and each dot-separated segment.
  void add_secret(std::string_view secret);
  [[nodiscard]] std::string scrub(std::string_view text, std::size_t max_length = 300) const;

 private:
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

// Text from outside (claims, config files) as one printable line: control characters become '?',
// so it can neither add output lines nor steer a terminal.
std::string one_line(std::string_view text);

// First 12 hex digits of SHA-256: lets logs tell tokens apart without revealing them.
std::string short_hash(std::string_view secret);

}  // namespace qcp

#pragma once

// A systemd EnvironmentFile= (systemd.exec(5)), such as kubeadm's kubeadm-flags.env, read the
// way install can also write it back: line by line.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/install/namespace.hpp"

namespace qcp::install {

// The file's lines, checked so that reading them one by one gives what systemd reads: each is
// blank, a comment (# or ;), or one KEY=VALUE whose VALUE is bare (no quote, no backslash) or
// wholly inside "..." or '...' (no quote or backslash within). What systemd would read across
// lines (a trailing backslash, a quote left open, a comment ending in a backslash) or otherwise
// than it looks (CR line ends) is refused, as is an assignment of `key` that is not exactly
// `key=` at the start of its line, or more than one (systemd keeps the last): install could
// not edit them without changing what the kubelet gets. Throws Failure (kUsage) naming the
// file and line.
class EnvFile {
 public:
  EnvFile(std::string_view text, std::string_view key, const std::string& file);

  // The words of `key`'s value, as systemd's ExecStart=$KEY splits them (at whitespace).
  [[nodiscard]] std::vector<std::string> words() const;
  // `key` set to these words, every other line byte for byte as it was.
  [[nodiscard]] std::string with_words(const std::vector<std::string>& words) const;

 private:
  std::vector<std::string> lines_;
  std::string key_;
  std::string file_;
  std::optional<std::size_t> assignment_;  // the line that sets key
};

}  // namespace qcp::install

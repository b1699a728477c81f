#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/environment.hpp"

namespace qcp::core {

// Where a workload's identity token (a projected service-account token, a CI OIDC token, a
// SPIFFE JWT-SVID) comes from: read afresh for every exchange, since they rotate.
struct TokenSource {
  std::string file;                  // a file to read
  std::vector<std::string> command;  // or a command to run, as words: without a shell
  // What messages call the file and the command: the mode's own flag, variable or config key
  // (core knows none of them).
  std::string file_name = "the token file";
  std::string command_name = "the token command";
};

// A token command's text as words: split at spaces and tabs; '...' and "..." group words and
// are removed (nothing is expanded, there is no escape). Throws Failure (kUsage) for an empty
// command or an unclosed quote, calling the setting `name`.
std::vector<std::string> split_command(std::string_view text, std::string_view name);

// How long a token command may run, and how much of its stdout is a token.
inline constexpr std::chrono::seconds kTokenCommandTimeout{30};
inline constexpr std::size_t kMaxTokenBytes = std::size_t{64} << 10;

// The token, checked before it is sent anywhere: one JWT (surrounding whitespace dropped). An
// `exp` not after `clock.now()` is told to `warn` but not refused: Quay checks it on its own
// clock, which may differ from this one by more than the token's life. The command runs with
// `environment` as its
// whole environment, by `deadline` and at most kTokenCommandTimeout; on failure its stderr is
// passed on, scrubbed of anything token-like. Throws Failure (kLookupFailed: exit 1, a file that
// cannot be read included) saying which source failed and why; never a piece of the token.
std::string read_token(const TokenSource& source, const std::vector<std::string>& environment,
                       std::chrono::steady_clock::time_point deadline, const Clock& clock,
                       const std::function<void(const std::string&)>& warn = {});

}  // namespace qcp::core

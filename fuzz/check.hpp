#pragma once

// Invariant checks for the fuzzers: a violation names the invariant on stderr, then traps, which
// libFuzzer reports as a crash and saves the input as an artifact.

#include <cstdio>

namespace qcp_fuzz {

[[noreturn]] inline void invariant_violated(const char* invariant) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", invariant);
  __builtin_trap();
}

inline void check(bool holds, const char* invariant) {
  if (!holds) {
    invariant_violated(invariant);
  }
}

}  // namespace qcp_fuzz

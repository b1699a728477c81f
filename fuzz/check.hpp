#pragma once

// Invariant checks for the fuzzers: a violation names the invariant on stderr, then traps, which
// libFuzzer reports as a crash and saves the input as an artifact.

#include <cstdio>

// The fuzzers call the product by qcp::name whichever layer declares it; each links only the
// layers it drives, so the namespaces are declared here rather than through their headers.
namespace qcp::core {}
namespace qcp::net {}
namespace qcp::kube {}
namespace qcp::quay {}
namespace qcp {
using namespace qcp::core;
using namespace qcp::net;
using namespace qcp::kube;
using namespace qcp::quay;
}  // namespace qcp

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

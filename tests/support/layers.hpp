#pragma once

// Tests reach every layer: the product's names are found under qcp:: (and unqualified in the
// tests' own qcp::… namespaces) whichever layer's namespace declares them. qcp::cli, the top
// layer, names every other one (include/qcp/cli/namespace.hpp); using-directives are transitive.
// Product code never includes this.
#include "qcp/cli/namespace.hpp"

namespace qcp {
using namespace qcp::cli;
}  // namespace qcp

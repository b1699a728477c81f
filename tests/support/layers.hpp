#pragma once

// Tests reach every layer: the product's names are found under qcp:: (and unqualified in the
// tests' own qcp::… namespaces) whichever layer's namespace declares them. Product code never
// includes this; each layer names only the layers below it (include/qcp/<layer>/namespace.hpp).

namespace qcp::core {}
namespace qcp::net {}
namespace qcp::kube {}
namespace qcp::quay {}
namespace qcp::plugin {}
namespace qcp::diagnostics {}
namespace qcp::install {}
namespace qcp::workload {}
namespace qcp::cli {}

namespace qcp {
using namespace qcp::core;
using namespace qcp::net;
using namespace qcp::kube;
using namespace qcp::quay;
using namespace qcp::plugin;
using namespace qcp::diagnostics;
using namespace qcp::install;
using namespace qcp::workload;
using namespace qcp::cli;
}  // namespace qcp

#pragma once

// One namespace per folder. qcp::cli builds on qcp::core, qcp::net, qcp::kube, qcp::quay,
// qcp::plugin, qcp::diagnostics, qcp::install, qcp::workload, qcp::controller,
// qcp::static_provider, the layers its CMake
// library links: their names are found here unqualified. Every file of the layer includes this
// header; no higher layer's or sibling's namespace is named.

namespace qcp::core {}
namespace qcp::net {}
namespace qcp::kube {}
namespace qcp::quay {}
namespace qcp::plugin {}
namespace qcp::diagnostics {}
namespace qcp::install {}
namespace qcp::workload {}
namespace qcp::controller {}
namespace qcp::static_provider {}
namespace qcp::cli {
using namespace qcp::core;
using namespace qcp::net;
using namespace qcp::kube;
using namespace qcp::quay;
using namespace qcp::plugin;
using namespace qcp::diagnostics;
using namespace qcp::install;
using namespace qcp::workload;
using namespace qcp::controller;
using namespace qcp::static_provider;
}  // namespace qcp::cli

#pragma once

// One namespace per folder. qcp::controller builds on qcp::core, qcp::net, qcp::kube, qcp::quay,
// the layers its CMake library links: their names are found here unqualified. Every file of the
// layer includes this header; no higher layer's or sibling's namespace is named.

namespace qcp::core {}
namespace qcp::net {}
namespace qcp::kube {}
namespace qcp::quay {}
namespace qcp::controller {
using namespace qcp::core;
using namespace qcp::net;
using namespace qcp::kube;
using namespace qcp::quay;
}  // namespace qcp::controller

#pragma once

// One namespace per folder. qcp::static_provider builds on qcp::core and qcp::kube, the layers
// its CMake library links: their names are found here unqualified. Every file of the layer
// includes this header; no higher layer's or sibling's namespace is named. It knows no Quay:
// it serves registries' static credentials from files on the node.

namespace qcp::core {}
namespace qcp::kube {}
namespace qcp::static_provider {
using namespace qcp::core;
using namespace qcp::kube;
}  // namespace qcp::static_provider

#pragma once

// One namespace per folder. qcp::kube builds on qcp::core, the layers its CMake library links:
// their names are found here unqualified. Every file of the layer includes this header; no higher
// layer's or sibling's namespace is named.

namespace qcp::core {}
namespace qcp::kube {
using namespace qcp::core;
}  // namespace qcp::kube

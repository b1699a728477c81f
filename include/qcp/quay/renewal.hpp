#pragma once

#include <chrono>

#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// When to renew a credential that expires `left` from now: `margin` before, but never later
// than half its life left (a margin longer than the token's life would otherwise spin), at
// least a second from now, and up to 10% earlier, at random (`uniform` in [0, 1)), so that a
// fleet of sidecars started together, or thousands of pull Secrets minted in one sync, do not
// ask Quay together.
std::chrono::milliseconds renew_after(std::chrono::milliseconds left, std::chrono::seconds margin,
                                      double uniform);

}  // namespace qcp::quay

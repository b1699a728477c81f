#pragma once

// The reconciler's Event reasons (UpperCamelCase, as kubectl shows them under Events) and its
// counting into ReconcilerCounts, shared by the files that define Reconciler.

#include <array>
#include <atomic>
#include <cstddef>

#include "qcp/controller/reconciler.hpp"

namespace qcp::controller {

// By WriteReason: restored = edited or deleted by hand; replaced = another robot, or another
// name.
inline constexpr std::array<const char*, kWriteReasonNames.size()> kEventReasons{
    "PullSecretCreated", "PullSecretRefreshed", "PullSecretRestored", "PullSecretReplaced",
    "PullSecretRemoved"};
inline constexpr const char* kFailedReason = "PullSecretFailed";
inline constexpr const char* kInvalidReason = "InvalidAnnotation";
inline constexpr const char* kNotAllowedReason = "RobotNotAllowed";  // by the policy

inline const char* event_reason(WriteReason reason) {
  return kEventReasons.at(static_cast<std::size_t>(reason));
}

template <typename Counters, typename Reason>
void count(Counters& counters, Reason reason) {
  counters.at(static_cast<std::size_t>(reason)).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace qcp::controller

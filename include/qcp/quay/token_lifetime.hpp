#pragma once

#include <chrono>
#include <optional>

#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// How long the kubelet may reuse the credential: until the Quay token expires, less a margin so
// no pull starts with a token about to lapse (the kubelet never invalidates on 401), capped by
// the operator. A token that expires within the margin is a Failure, never a negative duration.
std::chrono::seconds cache_duration_for(std::chrono::system_clock::time_point expires_at,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration);

// The same from Quay's own lifetime (exp - iat, both on Quay's clock) counted from when the
// request was sent (monotonic): right however far the node's clock is from Quay's. Without a
// lifetime (no iat), falls back to expires_at on the node's clock.
std::chrono::seconds cache_duration_for(std::optional<std::chrono::seconds> lifetime,
                                        std::chrono::steady_clock::time_point requested_at,
                                        std::chrono::system_clock::time_point expires_at,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::steady_clock::time_point monotonic_now,
                                        std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration);

}  // namespace qcp::quay

#pragma once

#include <chrono>
#include <optional>

#include "qcp/core/environment.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// How long the kubelet may reuse the credential: until the Quay token expires, less a margin so
// no pull starts with a token about to lapse (the kubelet never invalidates on 401), capped by
// the operator. A token that expires within the margin is a Failure, never a negative duration.
std::chrono::seconds cache_duration_for(std::chrono::system_clock::time_point expires_at,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration);

// When `token` stops being valid, on the monotonic clock: Quay's own lifetime (exp - iat, both
// on Quay's clock) counted from when the request was sent, so right however far the node's
// clock is from Quay's; without a lifetime (no iat), exp on the node's clock; never more than
// Quay's fixed lifetime from now. Every mode that times a Quay token asks this, once, when it
// receives the token.
std::chrono::steady_clock::time_point valid_until(const QuayToken& token, const Clock& clock);

// How long until `valid_until`, in whole seconds (rounded down); negative once it has passed.
std::chrono::seconds time_left(std::chrono::steady_clock::time_point valid_until,
                               const Clock& clock);

// cache_duration_for by time_left: the plugin's answer to the kubelet.
std::chrono::seconds cache_duration_for(std::chrono::steady_clock::time_point valid_until,
                                        const Clock& clock, std::chrono::seconds margin,
                                        std::optional<std::chrono::seconds> max_duration);

}  // namespace qcp::quay

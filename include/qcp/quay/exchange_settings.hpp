#pragma once

#include <chrono>

#include "qcp/core/environment.hpp"
#include "qcp/core/log.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/namespace.hpp"
#include "qcp/quay/options.hpp"

namespace qcp::quay {

// How an exchange reaches Quay, from the flags and the process environment: trust (flags, then
// SSL_CERT_*, then the node's store), the HTTPS proxy and NO_PROXY, deadlines and retries under
// one `deadline`. Retries are logged at debug. Shared by every mode that exchanges a token.
// Throws Failure (kUsage) for a bad CA setting or proxy URL.
ExchangeSettings exchange_settings(const Options& options, const Environment& env,
                                   std::chrono::steady_clock::time_point deadline, Log& log);

}  // namespace qcp::quay

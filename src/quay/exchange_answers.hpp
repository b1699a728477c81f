#pragma once

#include <string>

#include "qcp/core/failure.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/namespace.hpp"

// What the exchange makes of each answer: Quay's refusals with its own words and a hint
// (quay-federation.md §3), transport failures named for the operator, the token read from a 200,
// and which failures are worth another attempt. exchange.cpp holds the attempts themselves.
namespace qcp::quay {

// A non-200 answer: "Quay at HOST refused robot "R" (HTTP N): Quay's message - what to change".
Failure refusal(const HttpResponse& response, const Identity& identity, const Redactor& redactor);

// A request that got no answer, by kind (certificate, TLS, resolve, connect, timeout, ...).
Failure unreachable(const TransportError& error, const Identity& identity,
                    const ExchangeSettings& settings, const Redactor& redactor);

// The robot token in a 200 answer, with its lifetime as Quay set it; throws Failure when the
// answer holds none.
QuayToken token_from_answer(const HttpResponse& response, const Identity& identity,
                            const Clock& clock);

bool is_retryable(const TransportError& error);
// Quay's 400 and 401 are final answers about configuration; only overload and outages retry.
bool is_retryable(long status, int earlier_500s);

// The overall deadline ran out; `detail` says what the last attempt met.
Failure deadline_failure(const Identity& identity, const ExchangeSettings& settings,
                         const std::string& detail);

}  // namespace qcp::quay

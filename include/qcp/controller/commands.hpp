#pragma once

#include <span>
#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"

namespace qcp::controller {

// controller --quay-host H [--namespace NS ...] [--leader-elect] [--kubeconfig F [--context C]]
// [...]: a pull Secret for every annotated ServiceAccount, renewed before its token expires,
// until SIGTERM or SIGINT (exit 0, the Lease released). Throws Failure for bad flags, before
// anything is sent.
int controller_command(std::span<const std::string> args, Streams streams, const Environment& env,
                       HttpClient& http, const Clock& clock);

}  // namespace qcp::controller

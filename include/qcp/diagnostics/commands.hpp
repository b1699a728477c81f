#pragma once

#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/kube/config_check.hpp"

namespace qcp::diagnostics {

// The diagnostics subcommands. Both print their report on stdout and throw Failure for usage
// errors and unusable input; run() turns that into the one stderr line.

// inspect [--robot ORG+NAME] [--policy FILE] [TOKEN|-]: decodes a service-account token (or the
// token in a CredentialProviderRequest) and says which federation binding Quay needs. 0: Quay can
// accept it (and the policy, when given, allows it); 1: Quay or the policy would refuse it.
int inspect_command(std::span<const std::string> args, Streams streams, const Clock& clock,
                    const Environment& env);

// check-config [--kubelet-version V] [--provider-name NAME] [--image IMAGE]... [--bin-dir DIR]
// FILE|DIR|-: validates a CredentialProviderConfig. 0: valid; 1: one line per problem printed.
int check_config_command(std::span<const std::string> args, Streams streams,
                         const Environment& env);

}  // namespace qcp::diagnostics

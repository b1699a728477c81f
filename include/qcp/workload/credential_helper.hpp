#pragma once

#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

inline constexpr std::string_view kHelperProgramName = "docker-credential-quay";

// docker-credential-quay get|list|store|erase|version: the credential-helper protocol docker,
// podman, skopeo, buildah and crane speak (credHelpers). `get` reads the server URL on stdin
// and prints {"ServerURL","Username","Secret"} with a freshly minted robot token; a registry
// not configured is "credentials not found in native keychain" (exit 1), as tools expect to fall
// back to anonymous; `store` and `erase` are accepted and change nothing (the credential is
// minted, not stored). Network settings come from the QUAY_CREDENTIAL_PROVIDER_* variables.
// Throws Failure for anything else; the cli prints it as the protocol wants (one line on stdout,
// the protocol's channel, and stderr; exit 1).
int credential_helper_command(std::span<const std::string> args, Streams streams,
                              const Environment& env, HttpClient& http, const Clock& clock);

}  // namespace qcp::workload

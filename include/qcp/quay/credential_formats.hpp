#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "qcp/quay/credential.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

// base64("robot:token"): docker's and containers' `auth` value. A secret.
std::string docker_auth(const RobotCredential& credential);

// A docker config.json or containers auth.json (`current`; nullopt: no file yet) with
// auths[registry] = {"auth": ...}; every other key and entry is kept. Throws Failure (kUsage)
// when `current` is not a JSON object with an object `auths`, without quoting it (it holds
// other credentials).
std::string merged_auth_file(const std::optional<std::string>& current,
                             const RobotCredential& credential);

// A kubernetes.io/dockerconfigjson Secret manifest (JSON, for kubectl apply -f -).
std::string secret_manifest(const RobotCredential& credential, std::string_view name,
                            std::string_view namespace_name);

// External Secrets' QuayAccessToken output: {"registry", "auth", "expiry"}, every value a
// string as ESO's generators give them (expiry in Unix seconds: the token's exp, as ESO's own
// QuayAccessToken generator prints it; this machine's expiry only for a token without exp).
std::string eso_output(const RobotCredential& credential);

}  // namespace qcp::quay

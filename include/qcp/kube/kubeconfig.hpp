#pragma once

#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/kube/api_server.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

// The API server a kubeconfig names for its current context (or `context`), as client-go's
// clientcmd reads it: the cluster's `server` (https only) and `certificate-authority` or
// `-data`; the user's `token` or `tokenFile` (re-read as it rotates) and/or
// `client-certificate`/`client-key` (or `-data`). Relative paths are read from the kubeconfig's
// directory, as clientcmd does. What this program does not do is refused, never ignored:
// `insecure-skip-tls-verify: true` (TLS verification is never off), `exec` and `auth-provider`
// plugins, `username`/`password`, `proxy-url`, `tls-server-name`. Throws Failure (kUsage) with
// the file, the line and what to change; never quotes a credential.
ApiServer load_kubeconfig(const Environment& env, const std::string& path,
                          std::string_view context = {});

}  // namespace qcp::kube

#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/static_provider/namespace.hpp"
#include "qcp/version.hpp"  // kStaticProgramName

namespace qcp::static_provider {

// The kubelet plugin for registries with fixed credentials: --credentials-dir DIR (or --help,
// --version) from args, one CredentialProviderRequest from stdin, one CredentialProviderResponse
// on stdout from the file for the image's registry, read on every call. Throws Failure for
// anything that stops it.
int static_provider_command(std::span<const std::string> args, Streams streams,
                            const Environment& env, const Clock& clock);

}  // namespace qcp::static_provider

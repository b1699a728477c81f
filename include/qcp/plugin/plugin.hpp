#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/plugin/namespace.hpp"

namespace qcp::plugin {

// The kubelet plugin: flags (or --help, --version) from args, one CredentialProviderRequest
// from stdin, one CredentialProviderResponse on stdout, all under --timeout. Throws Failure for
// anything that stops it (the cli turns it into a line on stderr and an exit code).
// `commands_help` is --help's list of the other commands.
int plugin_command(std::span<const std::string> args, Streams streams, const Environment& env,
                   HttpClient& http, const Clock& clock, std::string_view commands_help);

}  // namespace qcp::plugin

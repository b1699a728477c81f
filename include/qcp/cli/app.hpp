#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/cli/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"

namespace qcp::cli {

// The whole program behind main(): every side effect enters here, so tests drive it with string
// streams, a staged environment, a fake or loopback HTTP client and a fixed clock. args excludes
// argv[0]. Each returns the process exit code and never throws: this is the one place where a
// failure raised anywhere below becomes a message and an exit code.

// quay-credential-provider: the kubelet plugin, or the subcommand args[0] names (the command
// table in cli/commands.cpp). A failure is one line on stderr; its kind is the exit code.
int run(std::span<const std::string> args, Streams streams, const Environment& env,
        HttpClient& http, const Clock& clock);

// docker-credential-quay: the credential-helper protocol. A failure is one line on stdout (the
// protocol's channel) and on stderr, exit 1.
int run_credential_helper(std::span<const std::string> args, Streams streams,
                          const Environment& env, HttpClient& http, const Clock& clock);

// static-credential-provider: the kubelet plugin for registries with fixed credentials, from
// files on the node. A failure is one line on stderr; its kind is the exit code.
int run_static_provider(std::span<const std::string> args, Streams streams, const Environment& env,
                        const Clock& clock);

// One of the above, as `invoked` (argv[0]) names the program: installed (a symlink or a copy)
// as docker-credential-quay, it is the credential helper; as static-credential-provider, the
// static credentials provider.
int run_program(std::string_view invoked, std::span<const std::string> args, Streams streams,
                const Environment& env, HttpClient& http, const Clock& clock);

}  // namespace qcp::cli

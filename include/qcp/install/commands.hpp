#pragma once

#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// install --bin-dir DIR --config PATH --match-image HOST[:PORT]... [--host-root DIR]
// [--kubelet-version 1.N] [--audience AUD]: puts this binary and its provider entry on the
// node (see install::install). Prints what it did, one line each; throws Failure otherwise.
int install_command(std::span<const std::string> args, Streams streams, const Environment& env);

// uninstall --bin-dir DIR --config PATH [--host-root DIR]: takes them off again.
int uninstall_command(std::span<const std::string> args, Streams streams, const Environment& env);

}  // namespace qcp::install

#pragma once

#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

// login --robot R --registry H (--token-file F | --token-command C) (--authfile P | --format
// secret|eso) [plugin flags]: one exchange, the credential written where tools read it.
int login_command(std::span<const std::string> args, Streams streams, const Environment& env,
                  HttpClient& http, const Clock& clock);

}  // namespace qcp::workload

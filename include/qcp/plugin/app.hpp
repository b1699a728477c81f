#pragma once

#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"

namespace qcp {

// The whole program behind main(): every side effect enters here, so tests drive it with string
// streams, a staged environment, a fake or loopback HTTP client and a fixed clock.
// args excludes argv[0]. Returns the process exit code. Never throws.
int run(std::span<const std::string> args, Streams streams, const Environment& env,
        HttpClient& http, const Clock& clock);

}  // namespace qcp

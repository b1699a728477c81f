#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"

namespace qcp {

struct Streams {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Waits until `in` can be read without blocking; false when `timeout` passed first. Empty:
  // `in` never blocks (a string stream in tests).
  std::function<bool(std::chrono::milliseconds timeout)> wait_for_input = {};
};

// The whole program behind main(): every side effect enters here, so tests drive it with string
// streams, a staged environment, a fake or loopback HTTP client and a fixed clock.
// args excludes argv[0]. Returns the process exit code. Never throws.
int run(std::span<const std::string> args, Streams streams, const Environment& env,
        HttpClient& http, const Clock& clock);

}  // namespace qcp

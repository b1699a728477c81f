#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>

namespace qcp::core {

// A command's standard streams, passed in so that tests drive every mode with string streams.
// Which of them carries a protocol is the mode's to say (the plugin's and the credential
// helper's stdout carry nothing else).
struct Streams {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Waits until `in` can be read without blocking; false when `timeout` passed first. Empty:
  // `in` never blocks (a string stream in tests).
  std::function<bool(std::chrono::milliseconds timeout)> wait_for_input = {};
};

}  // namespace qcp::core

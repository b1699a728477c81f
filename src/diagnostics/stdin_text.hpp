#pragma once

#include <istream>
#include <string>

#include "qcp/diagnostics/namespace.hpp"

namespace qcp::diagnostics {

// What `-` names: stdin, at most 1 MiB (a request's bound). Throws Failure (kBadRequest).
std::string read_stdin(std::istream& in);

}  // namespace qcp::diagnostics

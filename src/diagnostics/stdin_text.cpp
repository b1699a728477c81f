#include "diagnostics/stdin_text.hpp"

#include "qcp/core/failure.hpp"
#include "qcp/kube/request.hpp"

namespace qcp::diagnostics {

std::string read_stdin(std::istream& in) {
  try {
    return read_request(in, kMaxRequestBytes);
  } catch (const Failure&) {
    throw Failure(ExitCode::kBadRequest, "stdin could not be read or holds more than 1 MiB");
  }
}

}  // namespace qcp::diagnostics

#include "qcp/core/stream_output.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include "qcp/core/failure.hpp"

namespace qcp::core {

void write_answer(std::ostream& out, std::string_view answer) {
  errno = 0;
  out.write(answer.data(), static_cast<std::streamsize>(answer.size()));
  out.flush();
  if (!out) {
    const int error = errno;
    throw Failure(ExitCode::kLookupFailed,
                  "the response could not be written to stdout" +
                      (error != 0 ? ": " + std::error_code(error, std::generic_category()).message()
                                  : std::string()));
  }
}

}  // namespace qcp::core

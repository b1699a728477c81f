#pragma once

#include <stdexcept>
#include <string>

namespace qcp::core {

// Exit codes are part of the interface (docs/configuration.md lists them).
enum class ExitCode : int {
  kOk = 0,
  kLookupFailed = 1,  // Quay, the network or TLS said no: the credential could not be obtained.
  kUsage = 2,       // Bad flags or node-level settings: the operator must fix the provider config.
  kBadRequest = 3,  // The kubelet's request or the service account's annotations are unusable.
};

// A reason to stop. Thrown by the pipeline stages and turned into one stderr line and an exit
// code in exactly one place (cli/app.cpp). The message is printed verbatim, so it must never hold
// secret bytes or echo unvalidated input.
class Failure : public std::runtime_error {
 public:
  Failure(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

}  // namespace qcp::core

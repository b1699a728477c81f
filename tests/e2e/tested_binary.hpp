#pragma once
// The binary the end-to-end tests run. By default the one this build made (QCP_BINARY). Another
// build's binary can be named with QCP_E2E_BINARY, e.g. the cross-compiled linux/arm64 release
// binary, and run through QCP_E2E_EMULATOR (qemu-aarch64-static): the tests, the fake Quay and
// every other process stay native, so only the binary under test is emulated.

#include <cstdlib>
#include <string>
#include <vector>

namespace qcp::test {

inline std::string environment_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

inline const std::string kBinary = environment_or("QCP_E2E_BINARY", QCP_BINARY);
inline const std::string kEmulator = environment_or("QCP_E2E_EMULATOR", "");

// The argv that starts `program`: the emulator first when `program` is the binary under test.
inline std::vector<std::string> command_line(const std::string& program) {
  if (program == kBinary && !kEmulator.empty()) {
    return {kEmulator, program};
  }
  return {program};
}

}  // namespace qcp::test

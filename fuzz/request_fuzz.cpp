// Fuzzes the kubelet's CredentialProviderRequest as read from stdin: parse_request and then
// resolve_identity (the annotations and the image's registry), the only code that sees the
// request's bytes before a network call.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - a rejection is a qcp::Failure whose message is non-empty and one line (cli/app.cpp prints it
//     verbatim as a single stderr line);
//   - a parsed request has a non-empty image and a supported apiVersion;
//   - a resolved identity has a valid robot name and a valid host[:port] registry.
// Any other exception escapes LLVMFuzzerTestOneInput and aborts via std::terminate: also a crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/quay/identity.hpp"

namespace {

void check_failure_message(const qcp::Failure& failure) {
  // what(), as cli/app.cpp prints it.
  const std::string_view message = failure.what();
  qcp_fuzz::check(!message.empty(), "a Failure has a message");
  qcp_fuzz::check(message.find_first_of("\r\n") == std::string_view::npos,
                  "a Failure message is one line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  qcp::CredentialProviderRequest request;
  try {
    request = qcp::parse_request(json);
  } catch (const qcp::Failure& failure) {
    check_failure_message(failure);
    return 0;
  }
  qcp_fuzz::check(!request.image.empty(), "a parsed request has an image");
  qcp_fuzz::check(qcp::is_supported_api_version(request.api_version),
                  "a parsed request has a supported apiVersion");

  try {
    const auto identity = qcp::resolve_identity(request, {});
    qcp_fuzz::check(qcp::is_valid_robot_name(identity.robot),
                    "a resolved identity has a valid robot name");
    qcp_fuzz::check(qcp::is_valid_host_port(identity.registry),
                    "a resolved identity has a valid host[:port] registry");
  } catch (const qcp::Failure& failure) {
    check_failure_message(failure);
  }
  return 0;
}

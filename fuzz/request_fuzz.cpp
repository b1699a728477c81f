// Fuzzes the kubelet's CredentialProviderRequest as read from stdin: parse_request and then
// resolve_identities (the annotations, the token's service account and the image's registry),
// without a policy and with one, the only code that sees the request's bytes before a network
// call.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - a rejection is a qcp::Failure whose message is non-empty and one line (cli/app.cpp prints it
//     verbatim as a single stderr line);
//   - a parsed request has a non-empty image and a supported apiVersion;
//   - a resolution has 1 to kMaxRobotsPerAccount identities, each with a valid robot name (one
//     per organisation) and a valid host[:port] registry; with the policy, the robots are ones
//     its rule allows.
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
#include "qcp/quay/policy.hpp"

namespace {

void check_failure_message(const qcp::Failure& failure) {
  // what(), as cli/app.cpp prints it.
  const std::string_view message = failure.what();
  qcp_fuzz::check(!message.empty(), "a Failure has a message");
  qcp_fuzz::check(message.find_first_of("\r\n") == std::string_view::npos,
                  "a Failure message is one line");
}

// Every namespace's service accounts may name robots of "team*" organisations; "ci" gets a
// default robot of two organisations.
const qcp::Policy& fixed_policy() {
  static const qcp::Policy policy = qcp::parse_policy(
      "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nrules:\n"
      "  - namespaces: [ci]\n    robots: []\n    defaultRobot: team_a+ci,team_b+ci\n"
      "  - namespaces: ['*']\n    robots: ['team*+*']\n",
      "fuzz-policy.yaml");
  return policy;
}

void check_resolution(const qcp::CredentialProviderRequest& request, const qcp::Policy* policy) {
  try {
    const auto resolution =
        qcp::resolve_identities(request, {.allowed_hosts = {}, .policy = policy});
    qcp_fuzz::check(
        !resolution.identities.empty() && resolution.identities.size() <= qcp::kMaxRobotsPerAccount,
        "a resolution has 1 to kMaxRobotsPerAccount identities");
    for (const auto& identity : resolution.identities) {
      qcp_fuzz::check(qcp::is_valid_robot_name(identity.robot),
                      "a resolved identity has a valid robot name");
      qcp_fuzz::check(qcp::is_valid_host_port(identity.registry),
                      "a resolved identity has a valid host[:port] registry");
      qcp_fuzz::check(policy == nullptr || identity.robot.starts_with("team"),
                      "a policy's resolution holds only robots its rules allow");
    }
  } catch (const qcp::Failure& failure) {
    check_failure_message(failure);
  }
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

  check_resolution(request, nullptr);
  check_resolution(request, &fixed_policy());
  return 0;
}

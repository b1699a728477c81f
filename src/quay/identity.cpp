#include "qcp/quay/identity.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {
namespace {

// Quay's VALID_USERNAME_REGEX, ^[a-z0-9]+(?:[._-][a-z0-9]+)*$, with its 2-255 length rule; it
// applies to namespaces and to robot short names alike.
bool is_quay_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 255) {
    return false;
  }
  bool previous_was_separator = true;  // no separator first
  for (const char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool separator = c == '.' || c == '_' || c == '-';
    if (!alnum && !(separator && !previous_was_separator)) {
      return false;
    }
    previous_was_separator = separator;
  }
  return !previous_was_separator;
}

const std::string* annotation(const CredentialProviderRequest& request, std::string_view key) {
  const auto it = request.service_account_annotations.find(key);
  return it == request.service_account_annotations.end() ? nullptr : &it->second;
}

}  // namespace

bool is_valid_robot_name(std::string_view robot) {
  const auto plus = robot.find('+');
  return plus != std::string_view::npos && is_quay_name(robot.substr(0, plus)) &&
         is_quay_name(robot.substr(plus + 1));
}

Identity resolve_identity(const CredentialProviderRequest& request,
                          std::span<const std::string> allowed_hosts) {
  Identity identity;
  const auto* robot = annotation(request, kRobotAnnotation);
  if (robot == nullptr || robot->empty()) {
    throw Failure(ExitCode::kBadRequest,
                  "the service account has no annotation quay.io/federated-robot-account: "
                  "annotate it with the Quay robot to use, e.g. \"team+puller\", and list the key "
                  "in tokenAttributes.requiredServiceAccountAnnotationKeys");
  }
  if (!is_valid_robot_name(*robot)) {
    throw Failure(ExitCode::kBadRequest,
                  "annotation quay.io/federated-robot-account is not a Quay robot name: expected "
                  "\"<namespace>+<robot>\" in lowercase letters, digits, '.', '_', '-' (e.g. "
                  "\"team+puller\")");
  }
  identity.robot = *robot;
  identity.registry = registry_of_image(request.image);
  identity.quay_host = identity.registry;

  const auto* host = annotation(request, kHostAnnotation);
  if (host != nullptr && !host->empty() && *host != identity.registry) {
    if (!is_valid_host_port(*host)) {
      throw Failure(ExitCode::kBadRequest,
                    "annotation quay.io/host is not a valid host[:port] (no scheme, no path)");
    }
    // A namespace must not be able to send its pods' tokens to a host of its choosing: only the
    // node's allow-list can widen where the exchange goes.
    if (std::find(allowed_hosts.begin(), allowed_hosts.end(), *host) == allowed_hosts.end()) {
      throw Failure(ExitCode::kBadRequest,
                    "annotation quay.io/host asks for \"" + *host +
                        "\", which is neither the image's registry \"" + identity.registry +
                        "\" nor allowed on this node: add --allowed-host=" + *host +
                        " to the provider's args in the kubelet's CredentialProviderConfig");
    }
    identity.quay_host = *host;
  }
  return identity;
}

}  // namespace qcp::quay

#include "qcp/kube/response.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

std::string render_response(const Credential& credential) {
  nlohmann::ordered_json response;
  response["kind"] = "CredentialProviderResponse";
  response["apiVersion"] = credential.api_version;
  response["cacheKeyType"] = "Registry";
  response["cacheDuration"] = format_seconds(credential.cache_duration);
  response["auth"][std::string(credential.registry)] = {{"username", credential.username},
                                                        {"password", credential.password}};
  std::string text = response.dump() + "\n";
  wipe(response["auth"][std::string(credential.registry)]["password"].get_ref<std::string&>());
  return text;
}

}  // namespace qcp::kube

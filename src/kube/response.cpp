#include "qcp/kube/response.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

std::string render_response(const Credentials& credentials) {
  nlohmann::ordered_json response;
  response["kind"] = "CredentialProviderResponse";
  response["apiVersion"] = credentials.api_version;
  response["cacheKeyType"] =
      credentials.cache_key_type == CacheKeyType::kImage ? "Image" : "Registry";
  response["cacheDuration"] = format_seconds(credentials.cache_duration);
  auto& auth = response["auth"] = nlohmann::ordered_json::object();
  for (const AuthEntry& entry : credentials.auth) {
    auth[std::string(entry.key)] = {{"username", entry.username}, {"password", entry.password}};
  }
  std::string text = response.dump() + "\n";
  for (auto& [key, entry] : auth.items()) {
    wipe(entry["password"].get_ref<std::string&>());
  }
  return text;
}

}  // namespace qcp::kube

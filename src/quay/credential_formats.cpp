#include "qcp/quay/credential_formats.hpp"

#include <nlohmann/json.hpp>

#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {
namespace {

using Json = nlohmann::ordered_json;

std::int64_t unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

Json auths_for(const RobotCredential& credential) {
  std::string auth = docker_auth(credential);
  const WipeOnExit wipe_auth(auth);
  return Json{{"auths", Json{{credential.registry, Json{{"auth", auth}}}}}};
}

}  // namespace

std::string docker_auth(const RobotCredential& credential) {
  std::string pair = credential.robot + ":" + credential.token;
  const WipeOnExit wipe_pair(pair);
  return base64_encode(pair);
}

std::string merged_auth_file(const std::optional<std::string>& current,
                             const RobotCredential& credential) {
  Json file = Json::object();
  if (current && current->find_first_not_of(" \t\r\n") != std::string::npos) {
    file = Json::parse(*current, nullptr, /*allow_exceptions=*/false);
    if (file.is_discarded() || !file.is_object() ||
        (file.contains("auths") && !file["auths"].is_object())) {
      throw Failure(ExitCode::kUsage,
                    "is not a docker config.json or containers auth.json (a JSON object whose "
                    "\"auths\" is an object); not changed");
    }
  }
  std::string auth = docker_auth(credential);
  const WipeOnExit wipe_auth(auth);
  file["auths"][credential.registry] = Json{{"auth", auth}};
  std::string text = file.dump(1, '\t') + "\n";
  file.clear();
  return text;
}

std::string secret_manifest(const RobotCredential& credential, std::string_view name,
                            std::string_view namespace_name) {
  std::string config = auths_for(credential).dump();
  const WipeOnExit wipe_config(config);
  Json metadata = Json{{"name", name}};
  if (!namespace_name.empty()) {
    metadata["namespace"] = namespace_name;
  }
  metadata["annotations"] = Json{
      {"quay-credential-provider/robot", credential.robot},
      {"quay-credential-provider/expires", std::to_string(unix_seconds(credential.expires_at))}};
  const Json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", metadata},
                       {"type", "kubernetes.io/dockerconfigjson"},
                       {"data", Json{{".dockerconfigjson", base64_encode(config)}}}};
  return secret.dump(2) + "\n";
}

std::string eso_output(const RobotCredential& credential) {
  std::string auth = docker_auth(credential);
  const WipeOnExit wipe_auth(auth);
  const Json output = {
      {"registry", credential.registry},
      {"auth", auth},
      {"expiry", std::to_string(credential.exp.value_or(unix_seconds(credential.expires_at)))}};
  return output.dump() + "\n";
}

}  // namespace qcp::quay

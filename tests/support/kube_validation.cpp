#include "kube_validation.hpp"

#include "jwt.hpp"
#include "kube_replies.hpp"

namespace qcp::test::kube_handlers {
namespace {

using nlohmann::json;
namespace r = kube_replies;

// A Secret of type dockerconfigjson must hold .dockerconfigjson, base64 of JSON (kube-api/05f).
std::optional<Reply> invalid_secret(const json& secret, const std::string& name) {
  if (secret.value("type", "") != "kubernetes.io/dockerconfigjson") {
    return std::nullopt;
  }
  const auto data = secret.value("data", json::object());
  if (!data.contains(".dockerconfigjson")) {
    return r::invalid("Secret", name, "data[.dockerconfigjson]", "FieldValueRequired",
                      "Required value");
  }
  const auto decoded = base64_decode(data[".dockerconfigjson"].get<std::string>());
  if (!decoded || json::parse(*decoded, nullptr, false).is_discarded()) {
    return r::invalid("Secret", name, "data[.dockerconfigjson]", "FieldValueInvalid",
                      "Invalid value: \"<secret contents redacted>\": invalid character");
  }
  return std::nullopt;
}

// kube-api/09c: acquireTime and renewTime are MicroTime, exactly six fractional digits then Z or
// an offset, else 400; kube-api/09c: leaseDurationSeconds 0 is 422.
bool micro_time(const std::string& text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddd";
  if (text.size() < kShape.size() + 1) {
    return false;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
      return false;
    }
  }
  const std::string zone = text.substr(kShape.size());
  return zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':');
}

std::optional<Reply> invalid_lease(const json& lease, const std::string& name) {
  const json spec = lease.value("spec", json::object());
  for (const char* field : {"acquireTime", "renewTime"}) {
    const auto it = spec.find(field);
    if (it == spec.end() || !it->is_string() || micro_time(it->get<std::string>())) {
      continue;
    }
    const std::string text = it->get<std::string>();
    const std::string rest = text.size() > 19 ? text.substr(19) : text;
    return r::status(400, "BadRequest",
                     "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"" +
                         text + "\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"" +
                         rest + "\" as \".000000\"");
  }
  if (const auto duration = spec.find("leaseDurationSeconds");
      duration != spec.end() && duration->is_number_integer() && duration->get<long>() <= 0) {
    return r::status(422, "Invalid",
                     "Lease.coordination.k8s.io \"" + name +
                         "\" is invalid: spec.leaseDurationSeconds: Invalid value: " +
                         std::to_string(duration->get<long>()) + ": must be greater than 0",
                     {{"name", name},
                      {"group", "coordination.k8s.io"},
                      {"kind", "Lease"},
                      {"causes",
                       {{{"reason", "FieldValueInvalid"},
                         {"message", "Invalid value: " + std::to_string(duration->get<long>()) +
                                         ": must be greater than 0"},
                         {"field", "spec.leaseDurationSeconds"}}}}});
  }
  return std::nullopt;
}

}  // namespace

// What create and update check of an object's body, by resource.
std::optional<Reply> invalid_object(const std::string& resource, const json& object,
                                    const std::string& name) {
  if (resource == "leases") {
    return invalid_lease(object, name);
  }
  return resource == "secrets" ? invalid_secret(object, name) : std::nullopt;
}

}  // namespace qcp::test::kube_handlers

#pragma once
// The API server's answers, shaped as kube-api/ recorded them: every error a v1 Status with
// `code` = the HTTP status (README "Envelope"), but APF's plain-text 429 (11d) and 401's bare
// Status without details (11a).

#include <nlohmann/json.hpp>
#include <string>

#include "https_server.hpp"

namespace qcp::test::kube_replies {

inline Reply object(int code, const nlohmann::json& body) {
  return Reply::json(code, body, {{"Cache-Control", "no-cache, private"}});
}

inline Reply status(int code, const std::string& reason, const std::string& message,
                    const nlohmann::json& details = nullptr) {
  nlohmann::json body = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!details.is_null()) {
    body["details"] = details;
  }
  body["code"] = code;
  return object(code, body);
}

// A resource outside the core group is named with its group in messages and details
// ("leases.coordination.k8s.io", kube-api/09a, 09b).
inline std::string group_of_resource(const std::string& resource) {
  return resource == "leases" ? "coordination.k8s.io" : "";
}
inline std::string qualified(const std::string& resource) {
  const std::string group = group_of_resource(resource);
  return group.empty() ? resource : resource + "." + group;
}
inline nlohmann::json details_of(const std::string& resource, const std::string& name) {
  nlohmann::json details = {{"name", name}};
  if (const std::string group = group_of_resource(resource); !group.empty()) {
    details["group"] = group;
  }
  details["kind"] = resource;
  return details;
}

// kube-api/11a: a token the authenticator does not know is 401 before any authorization.
inline Reply unauthorized() {
  return object(401, {{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", nlohmann::json::object()},
                      {"status", "Failure"},
                      {"message", "Unauthorized"},
                      {"reason", "Unauthorized"},
                      {"code", 401}});
}

// kube-api/11b's wording; a LIST or a cluster-scoped object is "at the cluster scope".
inline Reply forbidden(const std::string& user, const std::string& verb,
                       const std::string& resource, const std::string& name,
                       const std::string& namespace_name) {
  // "serviceaccounts \"puller\" is forbidden: ... cannot get resource
  // \"serviceaccounts/token\"" (kube-api/04e): the object names its resource, the verb the
  // subresource.
  const std::string subresource_free = resource.substr(0, resource.find('/'));
  const std::string named = qualified(subresource_free);
  std::string message = (name.empty() ? named : named + " \"" + name + "\"") +
                        " is forbidden: User \"" + user + "\" cannot " + verb + " resource \"" +
                        resource + "\" in API group \"" + group_of_resource(subresource_free) +
                        "\" " +
                        (namespace_name.empty() ? "at the cluster scope"
                                                : "in the namespace \"" + namespace_name + "\"");
  return status(403, "Forbidden", message, details_of(subresource_free, name));
}

inline Reply not_found(const std::string& resource, const std::string& name) {
  return status(404, "NotFound", qualified(resource) + " \"" + name + "\" not found",
                details_of(resource, name));
}

// kube-api/05b.
inline Reply already_exists(const std::string& resource, const std::string& name) {
  return status(409, "AlreadyExists", qualified(resource) + " \"" + name + "\" already exists",
                details_of(resource, name));
}

// kube-api/05d, 06a.
inline Reply conflict(const std::string& resource, const std::string& name) {
  return status(409, "Conflict",
                "Operation cannot be fulfilled on " + qualified(resource) + " \"" + name +
                    "\": the object has been modified; please apply your changes to the latest "
                    "version and try again",
                details_of(resource, name));
}

// kube-api/04b, 05f: 422 with one cause.
inline Reply invalid(const std::string& kind, const std::string& name, const std::string& field,
                     const std::string& reason, const std::string& what) {
  return status(422, "Invalid", kind + " \"" + name + "\" is invalid: " + field + ": " + what,
                {{"name", name},
                 {"kind", kind},
                 {"causes", {{{"reason", reason}, {"message", what}, {"field", field}}}}});
}

}  // namespace qcp::test::kube_replies

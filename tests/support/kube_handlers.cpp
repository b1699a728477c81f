#include "kube_handlers.hpp"

#include <algorithm>
#include <thread>

#include "http_text.hpp"
#include "jwt.hpp"
#include "kube_pods.hpp"
#include "kube_replies.hpp"
#include "kube_validation.hpp"

namespace qcp::test::kube_handlers {
namespace {

using nlohmann::json;
namespace r = kube_replies;

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

json without_kind(json object) {
  object.erase("kind");
  object.erase("apiVersion");
  return object;
}

KubeStore::Key key_of(const Target& target) {
  return {target.resource, target.namespace_name, target.name};
}

std::string continue_token(std::uint64_t revision, const json& last) {
  const std::string start = last["metadata"].value("namespace", "") + "/" +
                            last["metadata"].value("name", "") + std::string(1, '\0');
  return base64url_encode(json{{"v", "meta.k8s.io/v1"}, {"rv", revision}, {"start", start}}.dump());
}

std::optional<json> parsed_object(const std::string& body) {
  auto object = json::parse(body, nullptr, false);
  if (!object.is_object()) {
    return std::nullopt;
  }
  if (!object.contains("metadata") || !object["metadata"].is_object()) {
    object["metadata"] = json::object();
  }
  return object;
}

}  // namespace

// "k=v,k2" as the API server reads an equality-based label selector.
bool selected(const json& object, const std::string& selector) {
  const json labels = object["metadata"].value("labels", json::object());
  for (const auto& term : selector.empty() ? std::vector<std::string>{} : split(selector, ',')) {
    const auto equals = term.find('=');
    const std::string key = term.substr(0, equals);
    if (!labels.contains(key) ||
        (equals != std::string::npos && labels[key] != term.substr(equals + 1))) {
      return false;
    }
  }
  return true;
}

std::string kind_of(const std::string& resource) {
  if (resource == "serviceaccounts") {
    return "ServiceAccount";
  }
  if (resource == "secrets") {
    return "Secret";
  }
  if (resource == "leases") {
    return "Lease";
  }
  if (resource == "pods") {
    return "Pod";
  }
  return resource == "events" ? "Event" : "Node";
}

std::string group_of(const std::string& resource) {
  return r::group_of_resource(resource);
}

// Single objects and watch events carry kind and apiVersion; list items do not (kube-api/01a).
json with_kind(const json& object, const std::string& resource) {
  const std::string group = group_of(resource);
  json out = {{"kind", kind_of(resource)}, {"apiVersion", group.empty() ? "v1" : group + "/v1"}};
  for (const auto& [key, value] : object.items()) {
    if (key != "kind" && key != "apiVersion") {
      out[key] = value;
    }
  }
  return out;
}

std::optional<Target> target_of(std::string_view path) {
  auto parts = split(path.substr(path.empty() ? 0 : 1), '/');
  // /apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}] (kube-api/09a): the one
  // resource served outside the core group.
  if (parts.size() >= 6 && parts[0] == "apis" && parts[1] == "coordination.k8s.io" &&
      parts[2] == "v1" && parts[3] == "namespaces" && parts[5] == "leases" && parts.size() <= 7) {
    return Target{parts[4], "leases", parts.size() == 7 ? parts[6] : "", ""};
  }
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") {
    return std::nullopt;
  }
  if (parts[2] != "namespaces") {
    if (parts.size() > 4) {
      return std::nullopt;
    }
    return Target{"", parts[2], parts.size() == 4 ? parts[3] : "", ""};
  }
  if (parts.size() < 5 || parts.size() > 7) {
    return std::nullopt;
  }
  return Target{parts[3], parts[4], parts.size() > 5 ? parts[5] : "",
                parts.size() > 6 ? parts[6] : ""};
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  for (const auto& pair : query.empty() ? std::vector<std::string>{} : split(query, '&')) {
    const auto equals = pair.find('=');
    out[percent_decoded(pair.substr(0, equals))] =
        equals == std::string::npos ? "" : percent_decoded(pair.substr(equals + 1));
  }
  return out;
}

// kube-api/01a-01c, 01e: pages of `limit` after the continue token's start, every page at the
// first page's resourceVersion.
Reply list(const KubeStore& store, const Target& target, const Query& query) {
  const std::string selector = query.contains("labelSelector") ? query.at("labelSelector") : "";
  // kube-api/10a: a field selector filters too; a label the resource does not serve is 400.
  const std::string fields = query.contains("fieldSelector") ? query.at("fieldSelector") : "";
  if (std::string unsupported;
      !kube_pods::field_selected(target.resource, json::object(), fields, unsupported)) {
    return kube_pods::unsupported_field(unsupported);
  }
  std::string start;
  std::optional<std::uint64_t> token_revision;
  if (const auto it = query.find("continue"); it != query.end() && !it->second.empty()) {
    const auto decoded = base64url_decode(it->second);
    const auto token = json::parse(decoded.value_or(""), nullptr, false);
    if (!token.is_object() || !token.contains("start") || !token.contains("rv")) {
      return r::status(400, "BadRequest", "invalid continue token: " + it->second);
    }
    start = token["start"].get<std::string>();
    token_revision = token["rv"].get<std::uint64_t>();
  }
  const std::size_t limit =
      query.contains("limit") ? std::stoul(query.at("limit")) : std::size_t{0};
  auto page =
      store.list_page(target.resource, target.namespace_name, start, limit, [&](const json& item) {
        std::string unsupported;
        return selected(item, selector) &&
               kube_pods::field_selected(target.resource, item, fields, unsupported)
                   .value_or(false);
      });
  const std::uint64_t revision = token_revision.value_or(page.revision);
  json metadata = {{"resourceVersion", std::to_string(revision)}};
  if (page.remaining > 0) {
    metadata["continue"] = continue_token(revision, page.items.back());
    metadata["remainingItemCount"] = page.remaining;
  }
  json body = {{"kind", kind_of(target.resource) + "List"},
               {"apiVersion", "v1"},
               {"metadata", metadata},
               {"items", json::array()}};
  for (auto& item : page.items) {
    body["items"].push_back(without_kind(std::move(item)));
  }
  return r::object(200, body);
}

Reply get(const KubeStore& store, const Target& target) {
  const auto object = store.get(key_of(target));
  if (!object) {
    return r::not_found(target.resource, target.name);
  }
  return r::object(200, with_kind(*object, target.resource));
}

Reply create(KubeStore& store, const Target& target, const std::string& body) {
  auto object = parsed_object(body);
  if (!object) {
    return r::status(400, "BadRequest", "the body of the request was in an unknown format");
  }
  Target named = target;
  named.name = (*object)["metadata"].value("name", "");
  if (named.name.empty()) {
    return r::invalid(kind_of(target.resource), "", "metadata.name", "FieldValueRequired",
                      "Required value: name or generateName is required");
  }
  if (auto invalid = invalid_object(target.resource, *object, named.name)) {
    return *invalid;
  }
  (*object)["metadata"]["namespace"] = target.namespace_name;
  json stored;
  if (!store.create(key_of(named), without_kind(*object), stored)) {
    return r::already_exists(target.resource, named.name);
  }
  return r::object(201, with_kind(stored, target.resource));
}

// kube-api/05d, 05e: a stale resourceVersion is 409, none is an unconditional update.
Reply update(KubeStore& store, const Target& target, const std::string& body) {
  auto object = parsed_object(body);
  const auto current = store.get(key_of(target));
  if (!current) {
    return r::not_found(target.resource, target.name);
  }
  if (!object || (*object)["metadata"].value("name", "") != target.name) {
    return r::status(400, "BadRequest",
                     "the name of the object (" +
                         (object ? (*object)["metadata"].value("name", "") : std::string()) +
                         ") does not match the name on the URL (" + target.name + ")");
  }
  const std::string wanted = (*object)["metadata"].value("resourceVersion", "");
  if (wanted.empty() && target.resource == "leases") {
    // kube-api/09b: a Lease has no unconditional update.
    return r::status(
        422, "Invalid",
        "leases.coordination.k8s.io \"" + target.name +
            "\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an "
            "update",
        {{"name", target.name},
         {"group", "coordination.k8s.io"},
         {"kind", "leases"},
         {"causes",
          {{{"reason", "FieldValueInvalid"},
            {"message", "Invalid value: 0: must be specified for an update"},
            {"field", "metadata.resourceVersion"}}}}});
  }
  if (!wanted.empty() && wanted != (*current)["metadata"]["resourceVersion"]) {
    return r::conflict(target.resource, target.name);
  }
  if (auto invalid = invalid_object(target.resource, *object, target.name)) {
    return *invalid;
  }
  (*object)["metadata"]["namespace"] = target.namespace_name;
  json stored;
  store.replace(key_of(target), without_kind(*object), stored);
  return r::object(200, with_kind(stored, target.resource));
}

// kube-api/06a, 06b: merge and strategic merge patches alike replace imagePullSecrets whole;
// a resourceVersion in the patch is a precondition. JSON patches are not served here.
Reply patch(KubeStore& store, const Target& target, const std::string& body,
            const std::string& content_type) {
  if (content_type != "application/merge-patch+json" &&
      content_type != "application/strategic-merge-patch+json") {
    return r::status(415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json-patch+json, application/merge-patch+json, "
                     "application/apply-patch+yaml");
  }
  auto changes = json::parse(body, nullptr, false);
  const auto current = store.get(key_of(target));
  if (!current) {
    return r::not_found(target.resource, target.name);
  }
  if (!changes.is_object()) {
    return r::status(400, "BadRequest", "error decoding patch: invalid JSON");
  }
  if (changes.contains("metadata") && changes["metadata"].contains("resourceVersion")) {
    if (changes["metadata"]["resourceVersion"] != (*current)["metadata"]["resourceVersion"]) {
      return r::conflict(target.resource, target.name);
    }
    changes["metadata"].erase("resourceVersion");
  }
  json merged = *current;
  merged.merge_patch(changes);
  if (merged.contains("imagePullSecrets") && merged["imagePullSecrets"].empty()) {
    merged.erase("imagePullSecrets");  // omitempty: an emptied list is not stored
  }
  json stored;
  store.replace(key_of(target), merged, stored);
  return r::object(200, with_kind(stored, target.resource));
}

// kube-api/05g: a Secret's DELETE answers a Success Status naming it; a DeleteOptions body's
// resourceVersion precondition that is not the stored one is 409 Conflict, and nothing is deleted.
Reply remove(KubeStore& store, const Target& target, const std::string& body) {
  const auto current = store.get(key_of(target));
  if (!current) {
    return r::not_found(target.resource, target.name);
  }
  const json options = json::parse(body.empty() ? "{}" : body, nullptr, false);
  const std::string wanted =
      options.is_object() ? options.value(json::json_pointer("/preconditions/resourceVersion"), "")
                          : "";
  const std::string stored = (*current)["metadata"].value("resourceVersion", "");
  if (!wanted.empty() && wanted != stored) {
    return r::status(409, "Conflict",
                     "Operation cannot be fulfilled on " + kind_of(target.resource) + " \"" +
                         target.name + "\": the ResourceVersion in the precondition (" + wanted +
                         ") does not match the ResourceVersion in record (" + stored +
                         "). The object might have been modified",
                     {{"name", target.name}, {"kind", kind_of(target.resource)}});
  }
  const auto last = store.remove(key_of(target));
  return r::object(
      200,
      {{"kind", "Status"},
       {"apiVersion", "v1"},
       {"metadata", json::object()},
       {"status", "Success"},
       {"details",
        {{"name", target.name}, {"kind", target.resource}, {"uid", (*last)["metadata"]["uid"]}}}});
}

void collect_garbage(KubeStore& store, const json& deleted_account) {
  const std::string ns = deleted_account["metadata"].value("namespace", "");
  const std::string name = deleted_account["metadata"].value("name", "");
  for (const auto& secret : store.list("secrets", ns).first) {
    for (const auto& owner : secret["metadata"].value("ownerReferences", json::array())) {
      if (owner.value("kind", "") == "ServiceAccount" && owner.value("name", "") == name) {
        store.remove({"secrets", ns, secret["metadata"].value("name", "")});
        break;
      }
    }
  }
}

// kube-api/04a-04c, 04e.
Reply token_request(const KubeStore& store, const Target& target, const std::string& body,
                    const TokenSigner& signer) {
  const auto account = store.get({"serviceaccounts", target.namespace_name, target.name});
  if (!account) {
    return r::not_found("serviceaccounts", target.name);
  }
  const auto request = json::parse(body, nullptr, false);
  const json spec = request.is_object() ? request.value("spec", json::object()) : json::object();
  const std::int64_t seconds = spec.value("expirationSeconds", std::int64_t{3600});
  if (seconds < 600) {
    return r::invalid("TokenRequest.authentication.k8s.io", "", "spec.expirationSeconds",
                      "FieldValueInvalid",
                      "Invalid value: " + std::to_string(seconds) +
                          ": may not specify a duration less than 10 minutes");
  }
  const auto audiences = spec.value("audiences", json::array()).empty()
                             ? json::array({signer.issuer})
                             : spec["audiences"];
  ServiceAccountTokenSpec claims_spec{.issuer = signer.issuer,
                                      .ns = target.namespace_name,
                                      .service_account = target.name,
                                      .audiences = audiences.get<std::vector<std::string>>(),
                                      .lifetime = std::chrono::seconds{seconds},
                                      .issued_at = std::nullopt,
                                      .pod_name = "",
                                      .node_name = ""};
  json claims = service_account_claims(claims_spec);
  claims["kubernetes.io"].erase("pod");  // not bound to a pod (04a)
  claims["kubernetes.io"].erase("node");
  claims["kubernetes.io"]["serviceaccount"]["uid"] = (*account)["metadata"]["uid"];
  const auto expires = std::chrono::system_clock::time_point(
      std::chrono::seconds{claims["exp"].get<std::int64_t>()});
  return r::object(
      201,
      {{"kind", "TokenRequest"},
       {"apiVersion", "authentication.k8s.io/v1"},
       {"metadata",
        {{"name", target.name},
         {"namespace", target.namespace_name},
         {"uid", (*account)["metadata"]["uid"]}}},
       {"spec",
        {{"audiences", audiences}, {"expirationSeconds", seconds}, {"boundObjectRef", nullptr}}},
       {"status",
        {{"token", signer.signer->sign({{"typ", nullptr}}, claims)},
         {"expirationTimestamp", rfc3339(expires)}}}});
}

}  // namespace qcp::test::kube_handlers

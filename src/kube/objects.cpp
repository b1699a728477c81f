#include "qcp/kube/objects.hpp"

#include <nlohmann/json.hpp>

#include "kube/object_json.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

using Json = nlohmann::json;
using object_json::event_of;
using object_json::list_of;
using object_json::meta_of;
using object_json::text_at;

std::optional<ServiceAccount> service_account_of(const Json& object) {
  auto meta = meta_of(object);
  if (!meta) {
    return std::nullopt;
  }
  ServiceAccount account{.meta = std::move(*meta), .image_pull_secrets = {}};
  if (const auto it = object.find("imagePullSecrets"); it != object.end() && it->is_array()) {
    for (const auto& entry : *it) {
      account.image_pull_secrets.push_back(text_at(entry, "name"));  // {} stays "" (06b)
    }
  }
  return account;
}

std::optional<Secret> secret_of(const Json& object) {
  auto meta = meta_of(object);
  if (!meta) {
    return std::nullopt;
  }
  Secret secret{.meta = std::move(*meta),
                .type = text_at(object, "type"),
                .owners = {},
                .dockerconfigjson_sha256 = {}};
  const auto& refs = object["metadata"].find("ownerReferences");
  if (refs != object["metadata"].end() && refs->is_array()) {
    for (const auto& ref : *refs) {
      secret.owners.push_back({.api_version = text_at(ref, "apiVersion"),
                               .kind = text_at(ref, "kind"),
                               .name = text_at(ref, "name"),
                               .uid = text_at(ref, "uid"),
                               .controller = ref.is_object() && ref.contains("controller") &&
                                             ref["controller"] == true});
    }
  }
  if (const auto data = object.find("data"); data != object.end() && data->is_object()) {
    if (const auto config = data->find(".dockerconfigjson");
        config != data->end() && config->is_string()) {
      secret.dockerconfigjson_sha256 = sha256_hex(config->get_ref<const std::string&>());
    }
  }
  return secret;
}

}  // namespace

std::string key_of(const ObjectMeta& meta) {
  return meta.namespace_name + "/" + meta.name;
}

std::optional<ServiceAccount> decode_service_account(std::string_view json) {
  return service_account_of(Json::parse(json, nullptr, false));
}

std::optional<Secret> decode_secret(std::string_view json) {
  return secret_of(Json::parse(json, nullptr, false));
}

std::optional<ListPage<ServiceAccount>> decode_service_account_list(std::string_view json) {
  return list_of<ServiceAccount>(json, service_account_of);
}

std::optional<ListPage<Secret>> decode_secret_list(std::string_view json) {
  return list_of<Secret>(json, secret_of);
}

std::optional<WatchEvent<ServiceAccount>> decode_service_account_event(std::string_view line) {
  return event_of<ServiceAccount>(line, service_account_of);
}

std::optional<WatchEvent<Secret>> decode_secret_event(std::string_view line) {
  return event_of<Secret>(line, secret_of);
}

std::optional<IssuedToken> decode_token_request(std::string_view json) {
  auto body = Json::parse(json, nullptr, false);
  if (!body.is_object() || !body.contains("status") || !body["status"].is_object()) {
    return std::nullopt;
  }
  IssuedToken issued{.token = text_at(body["status"], "token"),
                     .expiration_timestamp = text_at(body["status"], "expirationTimestamp")};
  if (auto& token = body["status"]["token"]; token.is_string()) {
    wipe(token.get_ref<std::string&>());  // the parsed copy
  }
  if (issued.token.empty()) {
    return std::nullopt;
  }
  return issued;
}

std::string encode_token_request(std::string_view audience, std::chrono::seconds lifetime) {
  return Json{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenRequest"},
              {"spec", {{"audiences", {audience}}, {"expirationSeconds", lifetime.count()}}}}
      .dump();
}

std::string encode_secret(const SecretSpec& spec) {
  Json metadata = {{"name", spec.name},
                   {"namespace", spec.namespace_name},
                   {"labels", spec.labels},
                   {"annotations", spec.annotations},
                   {"ownerReferences", Json::array({{{"apiVersion", spec.owner.api_version},
                                                     {"kind", spec.owner.kind},
                                                     {"name", spec.owner.name},
                                                     {"uid", spec.owner.uid},
                                                     {"controller", spec.owner.controller},
                                                     {"blockOwnerDeletion", false}}})}};
  if (!spec.resource_version.empty()) {
    metadata["resourceVersion"] = spec.resource_version;
  }
  std::string data = base64_encode(spec.dockerconfigjson);
  const WipeOnExit wipe_data(data);
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", std::move(metadata)},
                 {"type", "kubernetes.io/dockerconfigjson"},
                 {"data", {{".dockerconfigjson", data}}}};
  std::string body = secret.dump();
  wipe(secret["data"][".dockerconfigjson"].get_ref<std::string&>());
  return body;
}

std::string dockerconfigjson_digest(std::string_view dockerconfigjson) {
  std::string data = base64_encode(dockerconfigjson);
  const WipeOnExit wipe_data(data);
  return sha256_hex(data);
}

std::string encode_image_pull_secrets_patch(const std::vector<std::string>& names,
                                            std::string_view resource_version) {
  Json list = Json::array();
  for (const auto& name : names) {
    list.push_back({{"name", name}});
  }
  return Json{{"metadata", {{"resourceVersion", resource_version}}}, {"imagePullSecrets", list}}
      .dump();
}

}  // namespace qcp::kube

#pragma once

// The API objects a pull-secret controller reads and writes, holding only the fields it uses
// (issue 21: "only the fields used"), decoded from and encoded to the JSON the API server
// speaks (kube-api/01a, 02a, 04a, 05a, 06a). Decoders never throw: nullopt for what is not the
// object they expect.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  std::map<std::string, std::string, std::less<>> labels;
  std::map<std::string, std::string, std::less<>> annotations;
  bool deleting = false;  // metadata.deletionTimestamp is set
};

// "namespace/name": how a controller keys a namespaced object.
std::string key_of(const ObjectMeta& meta);

struct ServiceAccount {
  ObjectMeta meta;
  std::vector<std::string> image_pull_secrets;  // names, in order, duplicates kept (07c)
};

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
};

struct Secret {
  ObjectMeta meta;
  std::string type;
  std::vector<OwnerReference> owners;
  // sha256 of data[".dockerconfigjson"] as stored (base64): enough to see a hand edit without
  // keeping the credential in memory. Empty without that key.
  std::string dockerconfigjson_sha256;
};

// One page of a LIST (kube-api/01a-01c): the list's resourceVersion, and the continue token
// ("" on the last page).
template <typename Object>
struct ListPage {
  std::vector<Object> items;
  std::string resource_version;
  std::string continue_token;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// One line of a WATCH stream (kube-api/02a, 03a): for ERROR, `error_code`/`error_reason`/
// `error_message` from its Status (410 Expired: relist); for BOOKMARK only the
// resourceVersion.
template <typename Object>
struct WatchEvent {
  WatchEventType type = WatchEventType::kError;
  std::optional<Object> object;
  std::string resource_version;
  long error_code = 0;
  std::string error_reason;
  std::string error_message;
};

std::optional<ServiceAccount> decode_service_account(std::string_view json);
std::optional<Secret> decode_secret(std::string_view json);
std::optional<ListPage<ServiceAccount>> decode_service_account_list(std::string_view json);
std::optional<ListPage<Secret>> decode_secret_list(std::string_view json);
std::optional<WatchEvent<ServiceAccount>> decode_service_account_event(std::string_view line);
std::optional<WatchEvent<Secret>> decode_secret_event(std::string_view line);

// A TokenRequest's answer (kube-api/04a): status.token (a secret) and when it expires.
struct IssuedToken {
  std::string token;
  std::string expiration_timestamp;  // RFC 3339, seconds
};
std::optional<IssuedToken> decode_token_request(std::string_view json);
// The body of a TokenRequest for `audience`, living `lifetime` (600 s is the least the API
// server grants: kube-api/04b).
std::string encode_token_request(std::string_view audience, std::chrono::seconds lifetime);

// A Secret of type kubernetes.io/dockerconfigjson (kube-api/05a) owned by `owner`.
struct SecretSpec {
  std::string name;
  std::string namespace_name;
  std::map<std::string, std::string, std::less<>> labels;
  std::map<std::string, std::string, std::less<>> annotations;
  OwnerReference owner;
  std::string dockerconfigjson;  // the config itself (a secret); encoded as base64 here
  std::string resource_version;  // for an update: the precondition ("" for create)
};
std::string encode_secret(const SecretSpec& spec);
// What Secret::dockerconfigjson_sha256 reads for a Secret written with this config.
std::string dockerconfigjson_digest(std::string_view dockerconfigjson);

// A JSON merge patch setting a ServiceAccount's imagePullSecrets to `names` (the list is
// atomic: a merge patch replaces it whole, kube-api/06a), conditional on `resource_version`
// (a stale one is 409 Conflict).
std::string encode_image_pull_secrets_patch(const std::vector<std::string>& names,
                                            std::string_view resource_version);

}  // namespace qcp::kube

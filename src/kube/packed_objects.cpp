#include "qcp/kube/packed_objects.hpp"

#include "qcp/core/packing.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

using Entries = std::map<std::string, std::string, std::less<>>;

void pack_entries(Packer& packer, const Entries& entries) {
  packer.count(entries.size());
  for (const auto& [key, value] : entries) {
    packer.text(key).text(value);
  }
}

Entries unpack_entries(Unpacker& unpacker) {
  Entries entries;
  for (auto left = unpacker.count(); left > 0; --left) {
    const auto key = unpacker.text();
    entries.emplace(key, unpacker.text());
  }
  return entries;
}

void pack_names(Packer& packer, const std::vector<std::string>& names) {
  packer.count(names.size());
  for (const auto& name : names) {
    packer.text(name);
  }
}

std::vector<std::string> unpack_names(Unpacker& unpacker) {
  std::vector<std::string> names(unpacker.count());
  for (auto& name : names) {
    name = unpacker.text();
  }
  return names;
}

// The key stands for the name and the namespace: neither may hold a '/'.
Packer pack_meta(const ObjectMeta& meta) {
  Packer packer;
  packer.text(key_of(meta)).text(meta.uid).text(meta.resource_version).flag(meta.deleting);
  pack_entries(packer, meta.labels);
  pack_entries(packer, meta.annotations);
  return packer;
}

ObjectMeta unpack_meta(Unpacker& unpacker) {
  ObjectMeta meta;
  const auto key = unpacker.text();
  const auto slash = key.find('/');
  meta.namespace_name = key.substr(0, slash);
  meta.name = slash == std::string_view::npos ? std::string_view{} : key.substr(slash + 1);
  meta.uid = unpacker.text();
  meta.resource_version = unpacker.text();
  meta.deleting = unpacker.flag();
  meta.labels = unpack_entries(unpacker);
  meta.annotations = unpack_entries(unpacker);
  return meta;
}

}  // namespace

std::string_view packed_key(std::string_view packed) {
  return Unpacker(packed).text();
}

std::string pack(const ServiceAccount& account) {
  Packer packer = pack_meta(account.meta);
  pack_names(packer, account.image_pull_secrets);
  return packer.take();
}

ServiceAccount unpack_service_account(std::string_view packed) {
  Unpacker unpacker(packed);
  ServiceAccount account{.meta = unpack_meta(unpacker), .image_pull_secrets = {}};
  account.image_pull_secrets = unpack_names(unpacker);
  return account;
}

std::string pack(const Secret& secret) {
  Packer packer = pack_meta(secret.meta);
  packer.text(secret.type).hex(secret.dockerconfigjson_sha256).count(secret.owners.size());
  for (const auto& owner : secret.owners) {
    packer.text(owner.api_version).text(owner.kind).text(owner.name).text(owner.uid);
    packer.flag(owner.controller);
  }
  return packer.take();
}

Secret unpack_secret(std::string_view packed) {
  Unpacker unpacker(packed);
  Secret secret{
      .meta = unpack_meta(unpacker), .type = {}, .owners = {}, .dockerconfigjson_sha256 = {}};
  secret.type = unpacker.text();
  secret.dockerconfigjson_sha256 = unpacker.hex();
  secret.owners.resize(unpacker.count());
  for (auto& owner : secret.owners) {
    owner.api_version = unpacker.text();
    owner.kind = unpacker.text();
    owner.name = unpacker.text();
    owner.uid = unpacker.text();
    owner.controller = unpacker.flag();
  }
  return secret;
}

std::string pack(const Pod& pod) {
  Packer packer = pack_meta(pod.meta);
  packer.text(pod.service_account).flag(pod.controlled).text(pod.phase);
  pack_names(packer, pod.image_pull_secrets);
  packer.count(pod.failed_pulls.size());
  for (const auto& pull : pod.failed_pulls) {
    packer.text(pull.image).text(pull.reason);
  }
  return packer.take();
}

Pod unpack_pod(std::string_view packed) {
  Unpacker unpacker(packed);
  Pod pod{.meta = unpack_meta(unpacker),
          .service_account = {},
          .image_pull_secrets = {},
          .controlled = false,
          .phase = {},
          .failed_pulls = {}};
  pod.service_account = unpacker.text();
  pod.controlled = unpacker.flag();
  pod.phase = unpacker.text();
  pod.image_pull_secrets = unpack_names(unpacker);
  pod.failed_pulls.resize(unpacker.count());
  for (auto& pull : pod.failed_pulls) {
    pull.image = unpacker.text();
    pull.reason = unpacker.text();
  }
  return pod;
}

}  // namespace qcp::kube

#include "install/config_entry.hpp"

// This provider's entry in a CredentialProviderConfig, as YAML lines and as JSON, and a new
// config that holds only it.
namespace qcp::install {
namespace {

std::string double_quoted(std::string_view text) {
  return Json(std::string(text)).dump();
}

// The keys the kubelet passes when a ServiceAccount has them: the host's, and the robot's when a
// policy default makes it optional.
std::vector<std::string> optional_keys(const ProviderSettings& settings) {
  if (settings.robot_key_optional) {
    return {settings.robot_key, settings.host_key};
  }
  return {settings.host_key};
}

// Our entry as YAML lines, relative to the column of its first key.
std::vector<std::string> entry_lines(const ProviderSettings& settings) {
  std::vector<std::string> lines = {
      "name: " + settings.name, "apiVersion: credentialprovider.kubelet.k8s.io/v1", "matchImages:"};
  for (const auto& image : settings.match_images) {
    lines.push_back("  - " + double_quoted(image));
  }
  // Used only when a response has no cacheDuration; ours always has one (Quay's lifetime).
  lines.emplace_back("defaultCacheDuration: 5m");
  if (!settings.args.empty()) {
    lines.emplace_back("args:");
    for (const auto& arg : settings.args) {
      lines.push_back("  - " + double_quoted(arg));
    }
  }
  if (!settings.service_account_tokens) {
    return lines;
  }
  lines.insert(lines.end(), {"tokenAttributes:",
                             "  serviceAccountTokenAudience: " + double_quoted(settings.audience)});
  if (settings.kubelet == KubeletGeneration::k1_34_or_later) {
    lines.emplace_back("  cacheType: ServiceAccount");
  }
  lines.emplace_back("  requireServiceAccount: true");
  if (!settings.robot_key_optional) {
    lines.insert(lines.end(),
                 {"  requiredServiceAccountAnnotationKeys:", "    - " + settings.robot_key});
  }
  lines.emplace_back("  optionalServiceAccountAnnotationKeys:");
  for (const auto& key : optional_keys(settings)) {
    lines.push_back("    - " + key);  // a qualified name: a plain YAML scalar
  }
  return lines;
}

// tokenAttributes of our entry: the kubelet's service-account token, for 1.34+ with cacheType.
Json token_attributes_json(const ProviderSettings& settings) {
  Json token_attributes = {{"serviceAccountTokenAudience", settings.audience}};
  if (settings.kubelet == KubeletGeneration::k1_34_or_later) {
    token_attributes["cacheType"] = "ServiceAccount";
  }
  token_attributes["requireServiceAccount"] = true;
  if (!settings.robot_key_optional) {
    token_attributes["requiredServiceAccountAnnotationKeys"] = {settings.robot_key};
  }
  token_attributes["optionalServiceAccountAnnotationKeys"] = optional_keys(settings);
  return token_attributes;
}

}  // namespace

// Our entry as one block-list item whose dash is at `prefix`.
std::string entry_item(const ProviderSettings& settings, std::string_view prefix,
                       std::string_view newline) {
  std::string item;
  bool first = true;
  for (const auto& line : entry_lines(settings)) {
    item += std::string(prefix) + (first ? "- " : "  ") + line + std::string(newline);
    first = false;
  }
  return item;
}

Json entry_json(const ProviderSettings& settings) {
  Json entry = {{"name", settings.name},
                {"apiVersion", "credentialprovider.kubelet.k8s.io/v1"},
                {"matchImages", settings.match_images},
                {"defaultCacheDuration", "5m"}};
  if (!settings.args.empty()) {
    entry["args"] = settings.args;
  }
  if (settings.service_account_tokens) {
    entry["tokenAttributes"] = token_attributes_json(settings);
  }
  return entry;
}

std::string new_config(const ProviderSettings& settings, ConfigFormat format) {
  if (format == ConfigFormat::kJson) {
    const Json root = {{"apiVersion", "kubelet.config.k8s.io/v1"},
                       {"kind", "CredentialProviderConfig"},
                       {"providers", {entry_json(settings)}}};
    return root.dump(2) + "\n";
  }
  return "# Written by quay-credential-provider install; `quay-credential-provider uninstall` "
         "removes it.\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n"
         "providers:\n" +
         entry_item(settings, "  ", "\n");
}

}  // namespace qcp::install

#include "qcp/workload/helper_config.hpp"

#include <algorithm>
#include <cctype>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {
namespace {

constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;

[[noreturn]] void malformed(const std::string& origin, int line, const std::string& why) {
  throw Failure(ExitCode::kUsage,
                origin + (line > 0 ? ":" + std::to_string(line) : "") + ": " + why);
}

std::string default_config_path(const Environment& env) {
  if (const auto path = env.get(kHelperConfigVariable); path && !path->empty()) {
    return *path;
  }
  std::string base;
  if (const auto xdg = env.get("XDG_CONFIG_HOME"); xdg && xdg->starts_with('/')) {
    base = *xdg;
  } else if (const auto home = env.get("HOME"); home && home->starts_with('/')) {
    base = *home + "/.config";
  } else {
    return "";
  }
  return base + "/quay-credential-provider/helper.yaml";
}

RegistryEntry entry_from(const std::string& registry, const yaml::Node& node,
                         const std::string& origin) {
  if (!node.is(yaml::Node::Kind::kMapping)) {
    malformed(origin, node.line, "registries." + one_line(registry) + " must be a mapping");
  }
  RegistryEntry entry{.registry = registry, .robot = {}, .quay_host = {}, .source = {}};
  const std::string key_path = "registries." + one_line(registry) + ".";
  entry.source.file_name = key_path + "tokenFile";
  entry.source.command_name = key_path + "tokenCommand";
  for (const auto& [key, key_line, value] : node.entries) {
    if (!value.is(yaml::Node::Kind::kString)) {
      malformed(origin, key_line, one_line(key) + " must be a string");
    }
    if (key == "robot") {
      entry.robot = value.text;
    } else if (key == "tokenFile") {
      entry.source.file = value.text;
    } else if (key == "tokenCommand") {
      entry.source.command = split_command(value.text, entry.source.command_name);
    } else if (key == "quayHost") {
      entry.quay_host = value.text;
    } else {
      malformed(origin, key_line,
                "unknown key " + one_line(key) + " (robot, tokenFile, tokenCommand, quayHost)");
    }
  }
  if (!is_valid_robot_name(entry.robot)) {
    malformed(origin, node.line, one_line(registry) + ": robot must be a Quay robot, org+name");
  }
  if (!entry.quay_host.empty() && !is_valid_host_port(entry.quay_host)) {
    malformed(origin, node.line, one_line(registry) + ": quayHost must be HOST[:PORT]");
  }
  if (entry.source.file.empty() == entry.source.command.empty()) {
    malformed(origin, node.line,
              one_line(registry) + ": give exactly one of tokenFile and tokenCommand");
  }
  return entry;
}

}  // namespace

std::vector<RegistryEntry> parse_helper_config(std::string_view text, const std::string& origin) {
  const auto document = yaml::parse(text);
  if (!document.problems.empty()) {
    malformed(origin, document.problems.front().line, document.problems.front().message);
  }
  const yaml::Node* registries = document.root && document.root->is(yaml::Node::Kind::kMapping)
                                     ? document.root->find("registries")
                                     : nullptr;
  if (registries == nullptr || !registries->is(yaml::Node::Kind::kMapping)) {
    malformed(origin, document.root ? document.root->line : 0,
              "expected a mapping `registries:` of HOST[:PORT] to robot and token source");
  }
  std::vector<RegistryEntry> entries;
  for (const auto& [key, line, value] : registries->entries) {
    const auto registry = registry_of_server_url(key);
    if (!registry || *registry != key) {
      malformed(origin, line, one_line(key) + " is not a registry HOST[:PORT] in lower case");
    }
    entries.push_back(entry_from(*registry, value, origin));
  }
  return entries;
}

std::vector<RegistryEntry> load_helper_config(const Environment& env) {
  if (const auto robot = env.get(kRobotVariable); robot && !robot->empty()) {
    RegistryEntry entry{.registry = "",
                        .robot = *robot,
                        .quay_host = env.get(kQuayHostVariable).value_or(""),
                        .source = {}};
    entry.source.file = env.get(kTokenFileVariable).value_or("");
    entry.source.file_name = kTokenFileVariable;
    entry.source.command_name = kTokenCommandVariable;
    if (const auto command = env.get(kTokenCommandVariable); command && !command->empty()) {
      entry.source.command = split_command(*command, kTokenCommandVariable);
    }
    if (!is_valid_robot_name(entry.robot)) {
      throw Failure(ExitCode::kUsage,
                    std::string(kRobotVariable) + " must be a Quay robot, org+name");
    }
    if (!entry.quay_host.empty() && !is_valid_host_port(entry.quay_host)) {
      throw Failure(ExitCode::kUsage, std::string(kQuayHostVariable) + " must be HOST[:PORT]");
    }
    if (entry.source.file.empty() == entry.source.command.empty()) {
      throw Failure(ExitCode::kUsage, "with " + std::string(kRobotVariable) +
                                          ", set exactly one of " +
                                          std::string(kTokenFileVariable) + " and " +
                                          std::string(kTokenCommandVariable));
    }
    return {entry};
  }
  const std::string path = default_config_path(env);
  if (path.empty() || !env.is_readable_file(path)) {
    if (env.get(kHelperConfigVariable)) {
      throw Failure(ExitCode::kUsage, std::string(kHelperConfigVariable) + " names " +
                                          one_line(path) + ", which cannot be read");
    }
    return {};
  }
  return parse_helper_config(env.read_file(path, kMaxConfigBytes), one_line(path));
}

std::optional<std::string> registry_of_server_url(std::string_view server_url) {
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (server_url.starts_with(scheme)) {
      server_url.remove_prefix(scheme.size());
      break;
    }
  }
  server_url = server_url.substr(0, server_url.find('/'));
  std::string registry(server_url);
  std::transform(registry.begin(), registry.end(), registry.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!is_valid_host_port(registry)) {
    return std::nullopt;
  }
  return registry;
}

const RegistryEntry* entry_for(const std::vector<RegistryEntry>& entries,
                               const std::string& registry) {
  for (const auto& entry : entries) {
    if (entry.registry.empty() || entry.registry == registry) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace qcp::workload

#include "cli/commands.hpp"

#include <array>
#include <cstdio>

#include "qcp/cli/namespace.hpp"
#include "qcp/controller/commands.hpp"
#include "qcp/diagnostics/commands.hpp"
#include "qcp/install/commands.hpp"
#include "qcp/workload/commands.hpp"

namespace qcp::cli {
namespace {

constexpr std::string_view kDiagnostics = "Diagnostics (see each one's --help):";
constexpr std::string_view kNode = "On a node:";
constexpr std::string_view kWorkloads = "For workloads (CI jobs, build pods):";
constexpr std::string_view kCluster = "In a cluster whose kubelets cannot run the plugin:";

constexpr std::array kCommands = {
    Command{"inspect", "inspect [TOKEN|-]",
            "decode a service-account token; print the Quay federation binding", kDiagnostics,
            [](std::span<const std::string> args, const Context& c) {
              return inspect_command(args, c.streams, c.clock, c.env);
            }},
    Command{"check-config", "check-config FILE", "validate a kubelet CredentialProviderConfig",
            kDiagnostics,
            [](std::span<const std::string> args, const Context& c) {
              return check_config_command(args, c.streams, c.env);
            }},
    Command{"install", "install", "put this binary and its provider entry on the node", kNode,
            [](std::span<const std::string> args, const Context& c) {
              return install_command(args, c.streams, c.env);
            }},
    Command{"uninstall", "uninstall", "take them off again", kNode,
            [](std::span<const std::string> args, const Context& c) {
              return uninstall_command(args, c.streams, c.env);
            }},
    Command{"login", "login", "mint a robot token from a workload's identity token, once",
            kWorkloads,
            [](std::span<const std::string> args, const Context& c) {
              return login_command(args, c.streams, c.env, c.http, c.clock);
            }},
    Command{"controller", "controller", "keep a pull Secret for every annotated ServiceAccount",
            kCluster,
            [](std::span<const std::string> args, const Context& c) {
              return controller_command(args, c.streams, c.env, c.http, c.clock);
            }},
};

}  // namespace

std::span<const Command> commands() {
  return kCommands;
}

const Command* find_command(std::span<const std::string> args) {
  if (args.empty()) {
    return nullptr;
  }
  for (const auto& command : kCommands) {
    if (args.front() == command.name) {
      return &command;
    }
  }
  return nullptr;
}

std::string commands_help() {
  constexpr int kUsageWidth = 20;
  std::string text;
  std::string_view group;
  for (const auto& command : kCommands) {
    if (command.group != group) {
      text += (group.empty() ? "" : "\n") + std::string(command.group) + "\n";
      group = command.group;
    }
    std::string usage(command.usage);
    usage.resize(std::max<std::size_t>(usage.size() + 1, kUsageWidth), ' ');
    text += "  " + usage + " " + std::string(command.summary) + "\n";
  }
  return text + "\n";
}

}  // namespace qcp::cli

#pragma once

// The controller command's own flags, checked before anything is sent.

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::controller {

struct ControllerFlags {
  std::string kubeconfig;
  std::string context;
  std::string quay_host;
  std::string registry;
  std::string audience = "quay";
  std::vector<std::string> namespaces;
  std::string renew_before = "15m";
  int workers = 4;
  bool no_evict = false;
  bool verify_only = false;
  std::string verify_interval = "1h";
  std::string verify_image;
  bool leader_elect = false;
  std::string lease_namespace;
  std::string lease_name = "quay-credential-provider-controller";
  std::string health_address = ":8081";
  std::string metrics_address = ":8080";
};

void add_flags(CLI::App& app, ControllerFlags& flags);
// Throws Failure (kUsage) naming the flag.
void check(const ControllerFlags& flags);
std::chrono::seconds renew_before_of(const ControllerFlags& flags);
std::chrono::seconds verify_interval_of(const ControllerFlags& flags);
bool is_namespace_name(std::string_view name);
Failure usage(const std::string& message);  // "controller: " + message

}  // namespace qcp::controller

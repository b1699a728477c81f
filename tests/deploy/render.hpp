#pragma once
// deploy/ rendered by the machine's own `kubectl kustomize`, and the pieces of what it renders.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/process.hpp"
#include "qcp/core/yaml.hpp"

namespace qcp::deploy_test {

using namespace qcp::core;
using yaml::Node;

struct Rendered {
  std::vector<Node> objects;

  // The first object of that kind, and of that name when one is given.
  [[nodiscard]] const Node* find(std::string_view kind, std::string_view name = {}) const {
    for (const auto& object : objects) {
      const auto* k = object.find("kind");
      const auto* metadata = object.find("metadata");
      const auto* n = metadata == nullptr ? nullptr : metadata->find("name");
      if (k != nullptr && k->text == kind && (name.empty() || (n != nullptr && n->text == name))) {
        return &object;
      }
    }
    return nullptr;
  }
};

inline Rendered render_path(const std::string& directory) {
  ProcessSpec spec;
  spec.argv = {"kubectl", "kustomize", directory};
  spec.environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent"};
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  spec.max_stdout = std::size_t{1} << 20;
  const auto result = run_process(spec);
  EXPECT_TRUE(result.succeeded()) << directory << ": " << result.err;
  Rendered rendered;
  std::string_view rest = result.out;
  while (!rest.empty()) {
    const auto end = rest.find("\n---\n");
    const auto document = yaml::parse(rest.substr(0, end));
    EXPECT_TRUE(document.problems.empty()) << directory;
    if (document.root) {
      rendered.objects.push_back(*document.root);
    }
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 5);
  }
  return rendered;
}

inline Rendered render(const std::string& directory) {
  return render_path(std::string(QCP_DEPLOY_DIR) + "/" + directory);
}

// The node at a path of mapping keys and sequence indexes ("spec.template.spec.volumes.0").
inline const Node& at(const Node& node, std::string_view path) {
  const Node* current = &node;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string step(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (current->is(Node::Kind::kSequence)) {
      const auto index = std::stoul(step);
      if (index >= current->items.size()) {
        throw std::out_of_range("no item " + step);
      }
      current = &current->items[index];
    } else if (const auto* next = current->find(step); next != nullptr) {
      current = next;
    } else {
      throw std::out_of_range("no key " + step);
    }
  }
  return *current;
}

inline std::vector<std::string> texts(const Node& sequence) {
  std::vector<std::string> result;
  for (const auto& item : sequence.items) {
    result.push_back(item.text);
  }
  return result;
}

inline std::map<std::string, std::string> config_data(const Rendered& rendered) {
  std::map<std::string, std::string> data;
  const auto* config = rendered.find("ConfigMap");
  EXPECT_NE(config, nullptr);
  if (config != nullptr) {
    for (const auto& entry : at(*config, "data").entries) {
      data[entry.key] = entry.value.text;
    }
  }
  return data;
}

// kubectl is not in Debian 12 with kustomize (its kubectl is 1.20): without it these checks say
// so and skip, and the rest of the suite runs.
inline bool kubectl_can_render() {
  ProcessSpec spec;
  spec.argv = {"kubectl", "kustomize", "--help"};
  spec.environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent"};
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  try {
    return run_process(spec).succeeded();
  } catch (const std::exception&) {  // not found, or not executable
    return false;
  }
}

}  // namespace qcp::deploy_test

#pragma once
// deploy/ rendered by the machine's own `kubectl kustomize`, and the pieces of what it renders.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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

// A policy component's work on the workload of `kind` (issue 23): `flag` (--policy=,
// --policy-source=) appended to the first container's args, the others kept; its ConfigMap
// mounted whole (a subPath mount never sees an edit), read-only, where the flag points, in the
// workload's namespace. Returns the policy's text ("" after a failed expectation).
inline std::string mounted_policy(const Rendered& rendered, std::string_view kind,
                                  const std::string& flag) {
  const auto* workload = rendered.find(kind);
  if (workload == nullptr) {
    ADD_FAILURE() << "no " << kind;
    return {};
  }
  const auto& pod = at(*workload, "spec.template.spec");
  const auto args = texts(at(pod, "containers.0.args"));
  const auto given = std::find_if(args.begin(), args.end(),
                                  [&](const std::string& arg) { return arg.starts_with(flag); });
  if (given == args.end() || given != args.end() - 1) {
    ADD_FAILURE() << flag << " is not appended to the args";
    return {};
  }
  const std::string file = given->substr(flag.size());
  for (const auto& mount : at(pod, "containers.0.volumeMounts").items) {
    if (!file.starts_with(at(mount, "mountPath").text + "/")) {
      continue;
    }
    EXPECT_EQ(at(mount, "readOnly").text, "true");
    EXPECT_EQ(mount.find("subPath"), nullptr);
    for (const auto& volume : at(pod, "volumes").items) {
      if (at(volume, "name").text != at(mount, "name").text) {
        continue;
      }
      const auto* config_map = rendered.find("ConfigMap", at(volume, "configMap.name").text);
      if (config_map == nullptr) {
        ADD_FAILURE() << "the policy's ConfigMap is not rendered";
        return {};
      }
      EXPECT_EQ(at(*config_map, "metadata.namespace").text,
                at(*workload, "metadata.namespace").text);
      const auto* text = at(*config_map, "data").find(file.substr(file.rfind('/') + 1));
      return text != nullptr ? text->text : std::string();
    }
  }
  ADD_FAILURE() << "nothing is mounted where " << flag << " points";
  return {};
}

}  // namespace qcp::deploy_test

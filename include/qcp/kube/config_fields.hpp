#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qcp/core/yaml.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/namespace.hpp"

// Reading a decoded CredentialProviderConfig as the kubelet's strict JSON decoder does (typed
// fields, null as absent), and collecting findings with their file, line and field path.
namespace qcp::kube {

// The only request version that carries service-account tokens.
inline constexpr std::string_view kRequestV1 = "credentialprovider.kubelet.k8s.io/v1";

// For messages: the text in double quotes, control characters replaced (one line per finding).
std::string quoted_text(std::string_view text);

// Field paths as the kubelet prints them: providers[0].tokenAttributes.cacheType.
std::string join(const std::string& path, std::string_view key);
std::string index(const std::string& path, std::size_t i);

// JSON null leaves a Go field at its zero value, so null reads as absent.
const yaml::Node* present(const yaml::Node& mapping, std::string_view key);

class Findings {
 public:
  void set_file(std::string file) { file_ = std::move(file); }
  [[nodiscard]] const std::string& file() const { return file_; }

  void error(int line, std::string path, std::string message);
  void warn(int line, std::string path, std::string message);

  // True if the value has the kind; otherwise reports a type error (with a hint for YAML's
  // typing of plain scalars) and returns false.
  bool expect(const yaml::Node& value, yaml::Node::Kind kind, const std::string& path);
  // nullopt when absent; "" when present but not a string (reported).
  std::optional<std::string> string_field(const yaml::Node& mapping, std::string_view key,
                                          const std::string& path);
  // The strings of a list with their lines; null items are empty strings, as Go decodes them.
  std::vector<std::pair<std::string, int>> string_list(const yaml::Node& mapping,
                                                       std::string_view key,
                                                       const std::string& path);

  // Everything reported, by line within each file's first appearance.
  std::vector<ConfigFinding> take();

 private:
  std::vector<ConfigFinding> findings_;
  std::string file_;
};

}  // namespace qcp::kube

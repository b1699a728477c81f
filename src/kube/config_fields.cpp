#include "qcp/kube/config_fields.hpp"

#include <algorithm>

#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {

using yaml::Node;
using Kind = Node::Kind;

std::string quoted_text(std::string_view text) {
  return "\"" + one_line(text) + "\"";
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const Node* present(const Node& mapping, std::string_view key) {
  const Node* value = mapping.find(key);
  return value == nullptr || value->is(Kind::kNull) ? nullptr : value;
}

void Findings::error(int line, std::string path, std::string message) {
  findings_.push_back({file_, line, std::move(path), std::move(message), false});
}

void Findings::warn(int line, std::string path, std::string message) {
  findings_.push_back({file_, line, std::move(path), std::move(message), true});
}

bool Findings::expect(const Node& value, Kind kind, const std::string& path) {
  if (value.is(kind)) {
    return true;
  }
  std::string message = "must be " + std::string(yaml::describe(kind)) + ", not " +
                        std::string(yaml::describe(value.kind));
  if (kind == Kind::kString && (value.is(Kind::kNumber) || value.is(Kind::kBool))) {
    message += " (YAML reads " + quoted_text(value.text) + " as " +
               std::string(yaml::describe(value.kind)) + "; quote it)";
  } else if (kind == Kind::kBool && value.is(Kind::kString)) {
    message += " (write true or false without quotes)";
  }
  error(value.line, path, message);
  return false;
}

std::optional<std::string> Findings::string_field(const Node& mapping, std::string_view key,
                                                  const std::string& path) {
  const Node* value = present(mapping, key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!expect(*value, Kind::kString, join(path, key))) {
    return std::string();  // present but unusable: reported
  }
  return value->text;
}

std::vector<std::pair<std::string, int>> Findings::string_list(const Node& mapping,
                                                               std::string_view key,
                                                               const std::string& path) {
  std::vector<std::pair<std::string, int>> items;
  const Node* value = present(mapping, key);
  if (value == nullptr || !expect(*value, Kind::kSequence, join(path, key))) {
    return items;
  }
  for (std::size_t i = 0; i < value->items.size(); ++i) {
    const Node& item = value->items[i];
    if (item.is(Kind::kNull) || expect(item, Kind::kString, index(join(path, key), i))) {
      items.emplace_back(item.text, item.line);
    }
  }
  return items;
}

std::vector<ConfigFinding> Findings::take() {
  // Files in the order they were read, lines in order within each.
  std::vector<std::string> order;
  for (const auto& finding : findings_) {
    if (std::find(order.begin(), order.end(), finding.file) == order.end()) {
      order.push_back(finding.file);
    }
  }
  auto rank = [&order](const std::string& file) {
    return std::find(order.begin(), order.end(), file) - order.begin();
  };
  std::stable_sort(findings_.begin(), findings_.end(),
                   [&rank](const ConfigFinding& a, const ConfigFinding& b) {
                     const auto ra = rank(a.file);
                     const auto rb = rank(b.file);
                     return ra != rb ? ra < rb : a.line < b.line;
                   });
  return std::move(findings_);
}

}  // namespace qcp::kube

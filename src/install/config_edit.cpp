#include "qcp/install/config_edit.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "install/config_entry.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/text.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/kube/config_decode.hpp"

namespace qcp::install {
namespace {

using yaml::Node;

[[noreturn]] void refuse(const std::string& why) {
  throw Failure(ExitCode::kUsage, "install: cannot edit the config: " + why);
}

bool is_json(std::string_view text) {
  return trimmed(text).starts_with('{');
}

Json parse_json(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception&) {
    refuse("it starts with '{' but is not valid JSON (the kubelet would refuse it too)");
  }
}

Json& json_providers(Json& root) {
  if (!root.is_object()) {
    refuse("it is not a JSON object");
  }
  Json& providers = root["providers"];
  if (providers.is_null()) {
    providers = Json::array();
  }
  if (!providers.is_array()) {
    refuse("providers is not a list");
  }
  return providers;
}

// The text split into lines, each with its line break.
struct Lines {
  std::vector<std::string> lines;
  std::string newline = "\n";

  explicit Lines(std::string_view text) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = std::min(text.find('\n', start), text.size() - 1) + 1;
      lines.emplace_back(text.substr(start, end - start));
      start = end;
    }
    if (!lines.empty() && lines.front().ends_with("\r\n")) {
      newline = "\r\n";
    }
    if (!lines.empty() && !lines.back().ends_with('\n')) {
      lines.back() += newline;
    }
  }
  [[nodiscard]] std::string joined() const {
    std::string text;
    for (const auto& line : lines) {
      text += line;
    }
    return text;
  }
  // 1-based line -> its text.
  [[nodiscard]] const std::string& at(int line) const {
    return lines.at(static_cast<std::size_t>(line - 1));
  }
  [[nodiscard]] int count() const { return static_cast<int>(lines.size()); }
  // Replaces lines [first, last] (1-based, last may be first - 1 to insert) with `text`.
  void splice(int first, int last, const std::string& text) {
    const auto begin = lines.begin() + first - 1;
    lines.erase(begin, lines.begin() + last);
    lines.insert(lines.begin() + first - 1, text);
  }
};

bool is_content(std::string_view line) {
  const auto text = trimmed(line);
  return !text.empty() && !text.starts_with('#');
}

std::string indentation(std::string_view line) {
  return std::string(line.substr(0, line.find_first_not_of(' ')));
}

// The block list `providers:` of a YAML config, as lines.
struct ProviderList {
  const Node::Entry* entry = nullptr;
  std::vector<int> item_lines;  // where each item's dash is
  int end = 0;                  // the last line that can belong to the list
  std::string item_prefix;

  // The last line of item i that holds something (comments and blank lines after it are kept).
  [[nodiscard]] int item_end(const Lines& lines, std::size_t i) const {
    int last = i + 1 < item_lines.size() ? item_lines[i + 1] - 1 : end;
    while (last > item_lines[i] && !is_content(lines.at(last))) {
      --last;
    }
    return last;
  }
};

const Node& yaml_root(const yaml::Document& document) {
  if (!document.problems.empty()) {
    refuse("line " + std::to_string(document.problems.front().line) + ": " +
           document.problems.front().message + " (the kubelet would refuse it too)");
  }
  if (!document.root->is(Node::Kind::kMapping)) {
    refuse("its document is not a mapping");
  }
  return *document.root;
}

// The root mapping's entry after `entry`'s, or the end of the document: where the list stops.
int list_end(const yaml::Document& document, const Node& root, const Node::Entry& entry,
             const Lines& lines) {
  int end = document.extra_document_line > 0 ? document.extra_document_line - 1 : lines.count();
  const auto found = std::find_if(root.entries.begin(), root.entries.end(),
                                  [&entry](const auto& e) { return &e == &entry; });
  if (found + 1 != root.entries.end()) {
    end = std::min(end, (found + 1)->key_line - 1);
  }
  return end;
}

std::optional<ProviderList> block_list(const yaml::Document& document, const Lines& lines) {
  const Node& root = yaml_root(document);
  const auto entry = std::find_if(root.entries.begin(), root.entries.end(),
                                  [](const auto& e) { return e.key == "providers"; });
  if (entry == root.entries.end()) {
    return std::nullopt;
  }
  ProviderList list{.entry = &*entry,
                    .item_lines = {},
                    .end = list_end(document, root, *entry, lines),
                    .item_prefix = {}};
  const Node& value = entry->value;
  if (value.is(Node::Kind::kNull) || (value.is(Node::Kind::kSequence) && value.items.empty())) {
    return list;
  }
  if (!value.is(Node::Kind::kSequence)) {
    refuse("providers is " + std::string(yaml::describe(value.kind)) + ", not a list");
  }
  for (const auto& item : value.items) {
    if (item.line <= entry->key_line || !trimmed(lines.at(item.line)).starts_with('-')) {
      refuse(
          "providers is written in flow style ([...]); write it as a block list (\"- name: "
          "...\" lines) or give --config a directory");
    }
    list.item_lines.push_back(item.line);
  }
  list.item_prefix = indentation(lines.at(list.item_lines.front()));
  return list;
}

std::optional<std::size_t> index_of(const Node& providers, std::string_view name) {
  for (std::size_t i = 0; i < providers.items.size(); ++i) {
    const Node* found = providers.items[i].find("name");
    if (found != nullptr && found->text == name) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string with_provider(std::string_view text, const ProviderSettings& settings) {
  if (is_json(text)) {
    Json root = parse_json(text);
    Json& providers = json_providers(root);
    const auto found = std::find_if(providers.begin(), providers.end(), [&](const Json& p) {
      return p.is_object() && p.value("name", Json()) == settings.name;
    });
    if (found != providers.end()) {
      *found = entry_json(settings);
    } else {
      providers.push_back(entry_json(settings));
    }
    return root.dump(2) + "\n";
  }
  const auto document = parse_kubelet_config(text);
  if (document.problems.empty() && (!document.root || document.root->is(Node::Kind::kNull))) {
    return new_config(settings, ConfigFormat::kYaml);
  }
  Lines lines(text);
  const auto list = block_list(document, lines);
  if (!list) {  // no providers key yet: one at the end of the document
    const int end =
        document.extra_document_line > 0 ? document.extra_document_line - 1 : lines.count();
    lines.splice(end + 1, end,
                 "providers:" + lines.newline + entry_item(settings, "  ", lines.newline));
    return lines.joined();
  }
  if (list->item_lines.empty()) {  // "providers:" or "providers: []"
    const std::string& key = lines.at(list->entry->key_line);
    lines.splice(list->entry->key_line, list->entry->key_line,
                 indentation(key) + "providers:" + lines.newline +
                     entry_item(settings, indentation(key) + "  ", lines.newline));
    return lines.joined();
  }
  const std::string item = entry_item(settings, list->item_prefix, lines.newline);
  if (const auto ours = index_of(list->entry->value, settings.name)) {
    lines.splice(list->item_lines[*ours], list->item_end(lines, *ours), item);
  } else {
    const int last = list->item_end(lines, list->item_lines.size() - 1);
    lines.splice(last + 1, last, item);
  }
  return lines.joined();
}

std::string without_provider(std::string_view text, std::string_view name) {
  if (is_json(text)) {
    Json root = parse_json(text);
    Json& providers = json_providers(root);
    const auto found = std::find_if(providers.begin(), providers.end(), [&](const Json& p) {
      return p.is_object() && p.value("name", Json()) == name;
    });
    if (found == providers.end()) {
      return std::string(text);
    }
    providers.erase(found);
    return root.dump(2) + "\n";
  }
  const auto document = parse_kubelet_config(text);
  if (document.problems.empty() && (!document.root || document.root->is(Node::Kind::kNull))) {
    return std::string(text);
  }
  Lines lines(text);
  const auto list = block_list(document, lines);
  const auto ours = list ? index_of(list->entry->value, name) : std::nullopt;
  if (!ours) {
    return std::string(text);
  }
  if (list->item_lines.size() == 1) {
    const std::string& key = lines.at(list->entry->key_line);
    lines.splice(list->entry->key_line, list->item_end(lines, 0),
                 indentation(key) + "providers: []" + lines.newline);
  } else {
    lines.splice(list->item_lines[*ours], list->item_end(lines, *ours), "");
  }
  return lines.joined();
}

}  // namespace qcp::install

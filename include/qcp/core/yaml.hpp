#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qcp::core::yaml {

// A YAML document reduced to what the kubelet's decoder sees after sigs.k8s.io/yaml turns it into
// JSON: null, bool, number, string, sequence, mapping. Plain scalars are typed by YAML 1.1 rules as
// go-yaml v2 applies them (`yes`, `on` and `off` are booleans, `5` is a number, `~` is null),
// because that typing is what makes `requireServiceAccount: "true"` or `defaultCacheDuration: 0`
// fail in the kubelet. Every node keeps its 1-based line for messages.
struct Node {
  enum class Kind { kNull, kBool, kNumber, kString, kSequence, kMapping };
  struct Entry;

  Kind kind = Kind::kNull;
  int line = 0;
  std::string text;  // scalars: the value as written (quotes removed)
  bool boolean = false;
  std::vector<Node> items;     // kSequence
  std::vector<Entry> entries;  // kMapping, in document order, keys unique

  [[nodiscard]] bool is(Kind k) const { return kind == k; }
  [[nodiscard]] const Node* find(std::string_view key) const;
};

struct Node::Entry {
  std::string key;
  int key_line = 0;
  Node value;
};

// "a number", "a string", ... for messages.
std::string_view describe(Node::Kind kind);

struct Problem {
  int line = 0;
  std::string message;
};

struct Document {
  std::optional<Node> root;       // nullopt when the text holds no document at all
  std::vector<Problem> problems;  // syntax errors, duplicate keys, unsupported constructs
  int extra_document_line = 0;    // > 0: a second document starts here (the kubelet ignores it)
};

// Parses the first document of a YAML 1.1 stream (JSON is YAML too). Never throws on bad input.
Document parse(std::string_view text);

}  // namespace qcp::core::yaml

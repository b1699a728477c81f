#include "qcp/core/yaml.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

#include "core/yaml_values.hpp"

namespace qcp::core::yaml {
namespace {

using Kind = Node::Kind;

// Bounds for hostile input: nesting (recursion depth) and nodes after alias expansion
// ("billion laughs"). A CredentialProviderConfig needs a depth of 5 and a few hundred nodes.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 100'000;

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// Thrown to abandon the document; the message is the problem to report.
struct Stop {
  int line;
  std::string message;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : last_line_(count_lines(text)) {
    if (yaml_parser_initialize(&parser_) == 0) {
      throw std::bad_alloc();
    }
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  Reader(Reader&&) = delete;
  Reader& operator=(Reader&&) = delete;
  ~Reader() { yaml_parser_delete(&parser_); }

  Document read() {
    Document document;
    try {
      next();  // stream start
      next();
      if (event_->type == YAML_STREAM_END_EVENT) {
        return document;
      }
      next();  // document start -> first node event
      document.root = node(0);
      next();  // document end
      next();
      if (event_->type == YAML_DOCUMENT_START_EVENT) {
        document.extra_document_line = line();
      }
    } catch (const Stop& stop) {
      document.problems.push_back({stop.line, stop.message});
    }
    for (auto& problem : problems_) {
      document.problems.push_back(std::move(problem));
    }
    std::stable_sort(document.problems.begin(), document.problems.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return document;
  }

 private:
  int line() const { return clamped(event_->start_mark.line); }

  // libyaml moves its mark to a new line at the end of a stream without a final line break;
  // report such errors on the file's last line.
  int clamped(std::size_t zero_based_line) const {
    return static_cast<int>(std::min<std::size_t>(zero_based_line + 1, last_line_));
  }

  // Lines as YAML counts them: LF, CR, CRLF, and the UTF-8 NEL, LS and PS break a line.
  static std::size_t count_lines(std::string_view text) {
    std::size_t lines = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto byte = static_cast<unsigned char>(text[i]);
      if (byte == '\n' || (byte == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) ||
          (byte == 0xC2 && i + 1 < text.size() &&
           static_cast<unsigned char>(text[i + 1]) == 0x85) ||
          (byte == 0xE2 && i + 2 < text.size() && text.substr(i + 1, 1) == "\x80" &&
           (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
            static_cast<unsigned char>(text[i + 2]) == 0xA9))) {
        ++lines;
      }
    }
    return lines;
  }

  void next() {
    if (yaml_parser_parse(&parser_, event_.fill()) == 0) {
      event_.reset();
      const auto mark = parser_.problem != nullptr ? parser_.problem_mark : parser_.context_mark;
      std::string message = "YAML syntax error";
      if (parser_.problem != nullptr) {
        message += ": ";
        message += parser_.problem;
      }
      if (parser_.context != nullptr) {
        message += std::string(" (") + parser_.context + ")";
      }
      throw Stop{clamped(mark.line), message};
    }
  }

  void count_node(int at) {
    if (++nodes_ > kMaxNodes) {
      throw Stop{at, "too many YAML nodes (aliases expanding without bound?)"};
    }
  }

  static std::size_t size_of(const Node& node) {
    std::size_t size = 1;
    for (const auto& item : node.items)
      size += size_of(item);
    for (const auto& entry : node.entries)
      size += 1 + size_of(entry.value);
    return size;
  }

  void remember(std::string_view anchor, const Node& value) {
    if (!anchor.empty()) {
      anchors_[std::string(anchor)] = Anchored{value, size_of(value)};
    }
  }

  // The current event starts a node; on return the current event is its last one.
  Node node(int depth) {
    if (depth > kMaxDepth) {
      throw Stop{line(), "YAML nested too deeply"};
    }
    Node result;
    result.line = line();
    count_node(result.line);
    switch (event_->type) {
      case YAML_ALIAS_EVENT: {
        const auto found = anchors_.find(std::string(view(event_->data.alias.anchor)));
        if (found == anchors_.end()) {
          throw Stop{result.line, "YAML alias to an unknown anchor"};
        }
        // Count the copy before making it, so nested aliases cannot expand without bound.
        nodes_ += found->second.size;
        count_node(result.line);
        return found->second.node;
      }
      case YAML_SCALAR_EVENT:
        scalar(result);
        remember(view(event_->data.scalar.anchor), result);
        return result;
      case YAML_SEQUENCE_START_EVENT: {
        const std::string anchor(view(event_->data.sequence_start.anchor));
        check_collection_tag(view(event_->data.sequence_start.tag), "seq", result.line);
        result.kind = Kind::kSequence;
        for (next(); event_->type != YAML_SEQUENCE_END_EVENT; next()) {
          result.items.push_back(node(depth + 1));
        }
        remember(anchor, result);
        return result;
      }
      case YAML_MAPPING_START_EVENT: {
        const std::string anchor(view(event_->data.mapping_start.anchor));
        check_collection_tag(view(event_->data.mapping_start.tag), "map", result.line);
        result.kind = Kind::kMapping;
        for (next(); event_->type != YAML_MAPPING_END_EVENT; next()) {
          mapping_entry(result, depth);
        }
        remember(anchor, result);
        return result;
      }
      default:
        throw Stop{result.line, "unexpected YAML event"};
    }
  }

  void mapping_entry(Node& mapping, int depth) {
    const int key_line = line();
    const bool merge = event_->type == YAML_SCALAR_EVENT &&
                       event_->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                       view(event_->data.scalar.value) == "<<";
    Node key = node(depth + 1);
    next();
    Node value = node(depth + 1);
    if (merge) {
      merge_into(mapping, value, key_line);
      return;
    }
    if (key.is(Kind::kSequence) || key.is(Kind::kMapping)) {
      problems_.push_back({key_line, "a mapping key must be a plain value"});
      return;
    }
    // sigs.k8s.io/yaml turns every key into a JSON string.
    std::string name = key.is(Kind::kBool)   ? (key.boolean ? "true" : "false")
                       : key.is(Kind::kNull) ? "null"
                                             : key.text;
    add_entry(mapping, std::move(name), key_line, std::move(value), "");
  }

  // A YAML merge (<<: *anchor, or a list of them), resolved as go-yaml v2 does for the kubelet.
  // Its strict decoding refuses a key set twice, by a merge as by hand.
  void merge_into(Node& mapping, const Node& value, int line) {
    const auto merge_one = [&](const Node& source) {
      if (!source.is(Kind::kMapping)) {
        problems_.push_back({line, "a YAML merge (<<) takes a mapping or a list of mappings"});
        return;
      }
      for (const auto& entry : source.entries) {
        add_entry(mapping, entry.key, line, entry.value, " (brought in by the merge key <<)");
      }
    };
    if (value.is(Kind::kSequence)) {
      for (const auto& item : value.items) {
        merge_one(item);
      }
    } else {
      merge_one(value);
    }
  }

  void add_entry(Node& mapping, std::string name, int key_line, Node value,
                 std::string_view origin) {
    const auto duplicate =
        std::find_if(mapping.entries.begin(), mapping.entries.end(),
                     [&name](const Node::Entry& entry) { return entry.key == name; });
    if (duplicate != mapping.entries.end()) {
      problems_.push_back({key_line, "duplicate key \"" + name + "\"" + std::string(origin) +
                                         " (first at line " + std::to_string(duplicate->key_line) +
                                         ")"});
      return;
    }
    mapping.entries.push_back({std::move(name), key_line, std::move(value)});
  }

  void check_collection_tag(std::string_view tag, std::string_view expected, int at) const {
    if (!tag.empty() && tag != std::string(kTagPrefix) + std::string(expected)) {
      throw Stop{at, "unsupported YAML tag " + std::string(tag)};
    }
  }

  void scalar(Node& result) const {
    const auto& data = event_->data.scalar;
    result.text.assign(reinterpret_cast<const char*>(data.value), data.length);
    const std::string_view tag = view(data.tag);
    const bool plain = data.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag.empty() || tag == "!") {
      const auto resolved =
          plain && tag.empty() ? resolve_plain(result.text) : Resolved{Kind::kString};
      result.kind = resolved.kind;
      result.boolean = resolved.boolean;
      return;
    }
    if (!tag.starts_with(kTagPrefix)) {
      throw Stop{result.line, "unsupported YAML tag " + std::string(tag)};
    }
    const std::string_view type = tag.substr(kTagPrefix.size());
    const auto resolved = resolve_plain(result.text);
    if (type == "str") {
      result.kind = Kind::kString;
    } else if (type == "null") {
      result.kind = Kind::kNull;
    } else if ((type == "bool" && resolved.kind == Kind::kBool) ||
               ((type == "int" || type == "float") && resolved.kind == Kind::kNumber)) {
      result.kind = resolved.kind;
      result.boolean = resolved.boolean;
    } else {
      throw Stop{result.line, "YAML value tagged !!" + std::string(type) + " is not one"};
    }
  }

  std::size_t last_line_;
  yaml_parser_t parser_{};
  Event event_;
  struct Anchored {
    Node node;
    std::size_t size = 0;
  };
  std::map<std::string, Anchored, std::less<>> anchors_;
  std::vector<Problem> problems_;
  std::size_t nodes_ = 0;
};

}  // namespace

Document parse(std::string_view text) {
  return Reader(text).read();
}

}  // namespace qcp::core::yaml

#include "core/yaml_values.hpp"

#include <algorithm>
#include <array>
#include <string>

// Plain scalars typed as go-yaml v2 types them (so the kubelet's decoder), and the Node vocabulary.
namespace qcp::core::yaml {
namespace {

using Kind = Node::Kind;

bool all_of(std::string_view text, std::string_view alphabet) {
  return !text.empty() && text.find_first_not_of(alphabet) == std::string_view::npos;
}

// strconv.ParseInt(s, 0, 64) syntax (range aside): sign, then 0x/0o/0b/0-octal or decimal.
bool is_go_integer(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    text.remove_prefix(1);
  }
  if (text.size() > 2 && text[0] == '0') {
    const char base = static_cast<char>(text[1] | 0x20);
    if (base == 'x')
      return all_of(text.substr(2), "0123456789abcdefABCDEF");
    if (base == 'o')
      return all_of(text.substr(2), "01234567");
    if (base == 'b')
      return all_of(text.substr(2), "01");
  }
  if (text.size() > 1 && text[0] == '0') {
    return all_of(text.substr(1), "01234567");
  }
  return all_of(text, "0123456789");
}

// go-yaml's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_yaml_float(std::string_view text) {
  std::size_t at = 0;
  auto digits = [&] {
    const auto start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9')
      ++at;
    return at - start;
  };
  if (at < text.size() && (text[at] == '+' || text[at] == '-'))
    ++at;
  if (at < text.size() && text[at] == '.') {
    ++at;
    if (digits() == 0)
      return false;
  } else {
    if (digits() == 0)
      return false;
    if (at < text.size() && text[at] == '.') {
      ++at;
      digits();
    }
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-'))
      ++at;
    if (digits() == 0)
      return false;
  }
  return at == text.size();
}

}  // namespace

Resolved resolve_plain(std::string_view text) {
  static constexpr std::array<std::string_view, 11> kTrue = {
      "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {
      "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  static constexpr std::array<std::string_view, 5> kNull = {"", "~", "null", "Null", "NULL"};
  static constexpr std::array<std::string_view, 12> kSpecialFloats = {
      ".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",  ".INF",
      "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"};
  auto in = [text](const auto& words) {
    return std::find(words.begin(), words.end(), text) != words.end();
  };
  if (in(kTrue))
    return {Kind::kBool, true};
  if (in(kFalse))
    return {Kind::kBool, false};
  if (in(kNull))
    return {Kind::kNull};
  if (in(kSpecialFloats))
    return {Kind::kNumber};
  const char first = text.front();
  if ((first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.') {
    std::string plain(text);
    std::erase(plain, '_');  // go-yaml drops underscores before parsing numbers
    if ((first != '.' && is_go_integer(plain)) || is_yaml_float(first == '.' ? text : plain)) {
      return {Kind::kNumber};
    }
  }
  return {Kind::kString};
}

const Node* Node::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) {
      return &entry.value;
    }
  }
  return nullptr;
}

std::string_view describe(Node::Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNumber:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kSequence:
      return "a list";
    case Kind::kMapping:
      return "a mapping";
  }
  return "a value";
}

}  // namespace qcp::core::yaml

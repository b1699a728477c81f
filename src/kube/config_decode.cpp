#include "qcp/kube/config_decode.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

namespace qcp::kube {
namespace {

// apimachinery's IsJSONBuffer: the first byte after spaces, tabs, CRs and LFs is '{'. A UTF-8
// BOM is none of those, so a BOM before the '{' makes the file YAML.
bool looks_like_json(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

int line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(),
                                         text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

yaml::Document parse_kubelet_config(std::string_view text) {
  if (looks_like_json(text)) {
    try {
      const auto parsed = nlohmann::json::parse(text);  // only whether, and where, it fails
      static_cast<void>(parsed);
    } catch (const nlohmann::json::parse_error& error) {
      // error.byte is 1-based and points just past the offending character.
      const std::size_t at = error.byte > 0 ? error.byte - 1 : 0;
      yaml::Document refused;
      refused.problems.push_back(
          {line_of(text, at),
           "not valid JSON: a file that starts with '{' is decoded as strict JSON, so a trailing "
           "comma, a comment, single quotes or an unquoted key make the kubelet exit"});
      return refused;
    } catch (const nlohmann::json::exception& error) {
      // Well-formed, but a number beyond a double (44E4444): Go's decoder fails on it as well.
      static_cast<void>(error);
      yaml::Document refused;
      refused.problems.push_back(
          {1,
           "a number is too large for the kubelet's JSON decoder (beyond a 64-bit float), "
           "so the kubelet exits"});
      return refused;
    }
    // Valid JSON holds raw tabs only as whitespace (never inside strings), which YAML refuses
    // in places: make them spaces, keeping every line where it was.
    std::string yaml_safe(text);
    std::replace(yaml_safe.begin(), yaml_safe.end(), '\t', ' ');
    return yaml::parse(yaml_safe);
  }
  return yaml::parse(text);
}

}  // namespace qcp::kube

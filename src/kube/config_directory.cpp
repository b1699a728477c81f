#include "qcp/kube/config_directory.hpp"

#include <algorithm>

namespace qcp::kube {

bool is_config_file_name(std::string_view name) {
  return name.ends_with(".json") || name.ends_with(".yaml") || name.ends_with(".yml");
}

std::vector<std::string> config_directory_entries(std::vector<std::string> names) {
  std::erase_if(names, [](const std::string& name) { return !is_config_file_name(name); });
  // Go's sort.Strings: byte order, which std::string's operator< is.
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace qcp::kube

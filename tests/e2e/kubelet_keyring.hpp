#pragma once
// How the kubelet uses a response's auth map (kubelet-plugin-protocol.md §7, keyring.go): the
// keys reverse-sorted (longer before shorter prefix), and every key that matches the image under
// the matchImages grammar (§10: raw path prefix, no segment boundary), in that order.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers.hpp"
#include "qcp/kube/match_image.hpp"

namespace qcp::test {

inline std::vector<std::string> kubelet_keys_for(const nlohmann::json& auth,
                                                 const std::string& image) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : auth.items()) {
    keys.push_back(key);
  }
  std::sort(keys.rbegin(), keys.rend());
  std::vector<std::string> used;
  std::copy_if(keys.begin(), keys.end(), std::back_inserter(used),
               [&](const std::string& key) { return kube::match_image(key, image); });
  return used;
}

}  // namespace qcp::test

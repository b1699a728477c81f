#pragma once
// What a 1.33+ kubelet accepts on stdout (kubelet-plugin-protocol.md §4, §6): exactly one JSON
// object, nothing before or after it but whitespace, only known fields with the right types,
// apiVersion equal to the configured one, a valid cacheKeyType and Go duration, and AuthConfig
// entries holding only username and password. Returns the reason it would be rejected, or "".

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "layers.hpp"
#include "qcp/core/duration.hpp"

namespace qcp::test {

inline std::string kubelet_rejects(const std::string& stdout_text,
                                   const std::string& expected_api_version) {
  if (stdout_text.empty()) {
    return "empty stdout";
  }
  if (stdout_text.starts_with("\xEF\xBB\xBF")) {
    return "BOM";
  }
  nlohmann::json response;
  try {
    // parse() rejects trailing non-whitespace, as the kubelet's decoder does.
    response = nlohmann::json::parse(stdout_text);
  } catch (const nlohmann::json::exception& error) {
    return std::string("not one JSON document: ") + error.what();
  }
  if (!response.is_object()) {
    return "not an object";
  }
  const std::set<std::string> known = {"kind", "apiVersion", "cacheKeyType", "cacheDuration",
                                       "auth"};
  for (const auto& [key, value] : response.items()) {
    if (known.count(key) == 0) {
      return "unknown field " + key;
    }
  }
  if (response.value("kind", "") != "CredentialProviderResponse") {
    return "kind";
  }
  if (response.value("apiVersion", "") != expected_api_version) {
    return "apiVersion mismatch";
  }
  const auto key_type = response.value("cacheKeyType", "");
  if (key_type != "Image" && key_type != "Registry" && key_type != "Global") {
    return "cacheKeyType";
  }
  if (response.contains("cacheDuration")) {
    const auto& duration = response["cacheDuration"];
    if (!duration.is_null() &&
        (!duration.is_string() || !parse_go_duration(duration.get<std::string>()))) {
      return "cacheDuration";
    }
  }
  if (response.contains("auth")) {
    if (!response["auth"].is_object()) {
      return "auth";
    }
    for (const auto& [key, entry] : response["auth"].items()) {
      if (!entry.is_object()) {
        return "auth entry";
      }
      for (const auto& [field, value] : entry.items()) {
        if ((field != "username" && field != "password") || !value.is_string()) {
          return "auth field " + field;
        }
      }
    }
  }
  return "";
}

}  // namespace qcp::test

#include "qcp/kube/request.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stream_input.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

constexpr std::string_view kRequestKind = "CredentialProviderRequest";
constexpr std::string_view kGroupPrefix = "credentialprovider.kubelet.k8s.io/";

Failure bad_request(std::string message) {
  return Failure(ExitCode::kBadRequest, "invalid CredentialProviderRequest on stdin: " + message);
}

// A field that must be a string when present; JSON null counts as absent, as in Go's decoder.
std::string optional_string(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return {};
  }
  if (!it->is_string()) {
    throw bad_request(std::string("field \"") + key + "\" must be a string");
  }
  return it->get<std::string>();
}

}  // namespace

bool is_supported_api_version(std::string_view api_version) {
  constexpr std::array<std::string_view, 3> kVersions = {"v1", "v1beta1", "v1alpha1"};
  if (!api_version.starts_with(kGroupPrefix)) {
    return false;
  }
  const auto version = api_version.substr(kGroupPrefix.size());
  for (const auto known : kVersions) {
    if (version == known) {
      return true;
    }
  }
  return false;
}

std::string read_request(std::istream& in, std::size_t max_bytes,
                         const std::function<void()>& wait_for_input) {
  auto request = read_bounded(in, max_bytes, wait_for_input);
  if (!request) {
    throw bad_request("more than " + std::to_string(max_bytes) +
                      " bytes; the kubelet sends a few KiB");
  }
  return std::move(*request);
}

CredentialProviderRequest parse_request(std::string_view json) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw bad_request(
        "stdin is empty; the kubelet writes one JSON request (try: echo '{...}' | "
        "quay-credential-provider)");
  }
  // No exceptions from the parser: its messages quote the bytes around the error, and those
  // bytes may be the service-account token.
  nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    throw bad_request("not valid JSON");
  }
  if (!document.is_object()) {
    throw bad_request("not a JSON object");
  }

  const auto kind = optional_string(document, "kind");
  if (kind != kRequestKind) {
    throw bad_request(kind.empty() ? "missing \"kind\""
                                   : "\"kind\" is not CredentialProviderRequest");
  }
  CredentialProviderRequest request;
  request.api_version = optional_string(document, "apiVersion");
  if (!is_supported_api_version(request.api_version)) {
    throw bad_request(
        "\"apiVersion\" must be credentialprovider.kubelet.k8s.io/v1, v1beta1 or v1alpha1");
  }
  request.image = optional_string(document, "image");
  if (request.image.empty()) {
    throw bad_request("missing or empty \"image\"");
  }
  request.service_account_token = optional_string(document, "serviceAccountToken");
  if (const auto token = document.find("serviceAccountToken");
      token != document.end() && token->is_string()) {
    wipe(token->get_ref<std::string&>());  // the parsed copy; the caller owns the one it keeps
  }

  const auto annotations = document.find("serviceAccountAnnotations");
  if (annotations != document.end() && !annotations->is_null()) {
    if (!annotations->is_object()) {
      throw bad_request("\"serviceAccountAnnotations\" must be an object of strings");
    }
    for (const auto& [key, value] : annotations->items()) {
      if (!value.is_string()) {
        throw bad_request("\"serviceAccountAnnotations\" must be an object of strings");
      }
      request.service_account_annotations.emplace(key, value.get<std::string>());
    }
  }
  return request;
}

}  // namespace qcp::kube

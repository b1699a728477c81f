#include "controller/api_calls.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"

namespace qcp::controller {

std::string who(std::string_view namespace_name, std::string_view name) {
  return "ServiceAccount " + std::string(namespace_name) + "/" + std::string(name);
}

std::string account_path(std::string_view namespace_name, std::string_view name) {
  return "/api/v1/namespaces/" + std::string(namespace_name) + "/serviceaccounts/" +
         std::string(name);
}

std::string secret_path(std::string_view namespace_name, std::string_view name) {
  return "/api/v1/namespaces/" + std::string(namespace_name) + "/secrets" +
         (name.empty() ? "" : "/" + std::string(name));
}

ApiResponse checked(ApiClient& api, const ApiRequest& request, std::initializer_list<long> expected,
                    std::string_view subject) {
  ApiResponse response = api.call(request);
  if (std::find(expected.begin(), expected.end(), response.status) == expected.end() &&
      response.status != 409 && response.status != 404) {
    throw Failure(ExitCode::kLookupFailed,
                  std::string(subject) + ": " + api.refused(response).what());
  }
  return response;
}

ApiResponse read(ApiClient& api, const std::string& path, std::chrono::milliseconds timeout,
                 std::string_view subject) {
  return checked(
      api, {.method = "GET", .path = path, .body = {}, .content_type = {}, .timeout = timeout},
      {200}, subject);
}

}  // namespace qcp::controller

#pragma once

// The controller's calls on one ServiceAccount and its Secrets: paths, and answers checked so
// that every failure names the ServiceAccount and carries the API server's own words.

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>

#include "qcp/controller/namespace.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::controller {

// "ServiceAccount team-a/puller", how every message names one.
std::string who(std::string_view namespace_name, std::string_view name);
inline std::string who(const ServiceAccount& account) {
  return who(account.meta.namespace_name, account.meta.name);
}
std::string account_path(std::string_view namespace_name, std::string_view name);
inline std::string account_path(const ServiceAccount& account) {
  return account_path(account.meta.namespace_name, account.meta.name);
}
// The namespace's Secrets, or one of them.
std::string secret_path(std::string_view namespace_name, std::string_view name = {});

// The answer when its status is expected, 404 or 409 (the caller decides about those); any
// other answer throws Failure: "<subject>: <the API server's words>".
ApiResponse checked(ApiClient& api, const ApiRequest& request, std::initializer_list<long> expected,
                    std::string_view subject);

// A GET of `path`, checked as above (200, or 404 for the caller).
ApiResponse read(ApiClient& api, const std::string& path, std::chrono::milliseconds timeout,
                 std::string_view subject);

}  // namespace qcp::controller

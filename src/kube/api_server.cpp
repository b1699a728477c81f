#include "qcp/kube/api_server.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

// A bound service-account token is about 1 KiB (kube-api/12); the bound only keeps memory finite.
constexpr std::size_t kMaxTokenBytes = std::size_t{64} << 10;

std::string file_of(std::string_view directory, std::string_view name) {
  return std::string(directory) + "/" + std::string(name);
}

// A token goes into a header line: a byte outside visible ASCII would end or extend it.
bool is_header_safe(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < '\x7f'; });
}

// client-go joins the two as net.JoinHostPort does: an IPv6 address gets brackets.
std::string service_address(const Environment& env, std::string_view purpose) {
  const auto host = env.get("KUBERNETES_SERVICE_HOST");
  const auto port = env.get("KUBERNETES_SERVICE_PORT");
  if (!host || !port || host->empty() || port->empty()) {
    throw Failure(ExitCode::kUsage,
                  std::string(purpose) +
                      ": KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set, so "
                      "the API server cannot be found (the kubelet sets them in every container)");
  }
  const auto address =
      (host->find(':') == std::string::npos ? *host : "[" + *host + "]") + ":" + *port;
  if (!is_valid_host_port(address)) {
    throw Failure(ExitCode::kUsage, std::string(purpose) + ": KUBERNETES_SERVICE_HOST and " +
                                        "KUBERNETES_SERVICE_PORT make " + one_line(address) +
                                        ", which is not HOST:PORT");
  }
  return address;
}

}  // namespace

std::string read_bearer_token(const Environment& env, std::string_view purpose,
                              const std::string& path) {
  std::string token;
  try {
    token = env.read_file(path, kMaxTokenBytes);
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kUsage, std::string(purpose) + ": " + failure.what() +
                                        " (the pod's service-account token: its pod must not set "
                                        "automountServiceAccountToken: false)");
  }
  if (token.ends_with('\n')) {
    token.pop_back();
  }
  if (!is_header_safe(token)) {
    wipe(token);
    throw Failure(ExitCode::kUsage, std::string(purpose) + ": " + path +
                                        " is empty or holds spaces or control characters; it is "
                                        "not a service-account token");
  }
  return token;
}

ApiServer in_cluster_api_server(const Environment& env, std::string_view purpose,
                                std::string_view directory) {
  ApiServer api;
  api.base_url = "https://" + service_address(env, purpose);
  const auto ca = file_of(directory, "ca.crt");
  if (!env.is_readable_file(ca)) {
    throw Failure(ExitCode::kUsage, std::string(purpose) + ": cannot read " + ca +
                                        ", the cluster's CA the kubelet mounts beside the "
                                        "pod's service-account token");
  }
  api.trust = {.ca_file = ca, .ca_dir = "", .ca_pem = "", .source = ca};
  api.token_file = file_of(directory, "token");
  api.token = read_bearer_token(env, purpose, api.token_file);
  return api;
}

std::string get(HttpClient& http, const ApiServer& api, const std::string& path,
                std::chrono::milliseconds timeout, std::string_view purpose) {
  const SystemClock clock;
  ApiClient client(http, api, Environment{}, clock, std::string(purpose));
  ApiResponse response = client.call(
      {.method = "GET", .path = path, .body = {}, .content_type = {}, .timeout = timeout});
  if (response.status != 200) {
    throw client.refused(response);
  }
  return std::move(response.body);
}

}  // namespace qcp::kube

#include "qcp/kube/api_server.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <variant>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/namespace.hpp"
#include "qcp/version.hpp"

namespace qcp::kube {
namespace {

// A bound service-account token is about 1 KiB (kube-api/12); the bound only keeps memory finite.
constexpr std::size_t kMaxTokenBytes = std::size_t{64} << 10;
// A Node carries up to 50 images with all their names in its status: ample room.
constexpr std::size_t kMaxObjectBytes = std::size_t{4} << 20;
constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};

std::string file_of(std::string_view directory, std::string_view name) {
  return std::string(directory) + "/" + std::string(name);
}

// A token goes into a header line: a byte outside visible ASCII would end or extend it.
bool is_header_safe(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < '\x7f'; });
}

std::string read_token(const Environment& env, std::string_view purpose, const std::string& path) {
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

// The API server's own words: a Status object's message (kube-api/11a, 11b, 11c).
std::string status_message(const std::string& body, const Redactor& redactor) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.value("kind", "") == "Status" && json.contains("message") &&
      json["message"].is_string()) {
    return redactor.scrub(json["message"].get<std::string>());
  }
  // APF's 429 is plain text (kube-api/11d): its own words, then.
  return body.empty() ? "an empty answer" : redactor.scrub(body, 200);
}

// How long the API server asks a shed request to wait (APF sends whole seconds, kube-api/11d).
std::optional<std::chrono::seconds> retry_after(const HttpResponse& response) {
  constexpr std::size_t kMaxDigits = 4;
  const auto& text = response.retry_after;
  if (response.status != 429 || !text || text->empty() || text->size() > kMaxDigits ||
      !std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::chrono::seconds{std::stoi(*text)};
}

Failure refused(const HttpResponse& response, const ApiServer& api, std::string_view purpose,
                const Redactor& redactor) {
  const std::string message = status_message(response.body, redactor);
  const std::string code = "HTTP " + std::to_string(response.status);
  std::string text = std::string(purpose) + ": the API server at " + api.base_url;
  switch (response.status) {
    case 401:
      text += " did not accept this pod's service-account token (" + code + ": " + message + ")";
      break;
    case 403:
      text += " refused: " + message + " (" + code +
              "); the pod's service account needs a "
              "ClusterRole that allows it";
      break;
    case 429:
      text += " is shedding load (" + code + ": " + message + "); try again later";
      break;
    default:
      text += " answered " + code + ": " + message;
  }
  return {ExitCode::kLookupFailed, text};
}

Failure unreachable(const TransportError& error, const ApiServer& api,
                    std::chrono::milliseconds timeout, std::string_view purpose,
                    const Redactor& redactor) {
  const std::string where = "the API server at " + api.base_url;
  const std::string detail = redactor.scrub(error.detail);
  std::string text = std::string(purpose) + ": ";
  switch (error.kind) {
    case TransportError::Kind::kCertificate:
      text += "TLS certificate problem with " + where + " (trusted: only the cluster CA in " +
              api.trust.ca_file + "): " + detail;
      break;
    case TransportError::Kind::kTimeout:
      text += where + " did not answer within " +
              format_human(std::chrono::duration_cast<std::chrono::seconds>(timeout)) + ": " +
              detail;
      break;
    default:
      text += "cannot reach " + where + ": " + detail;
  }
  return {ExitCode::kLookupFailed, text};
}

}  // namespace

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
  api.token = read_token(env, purpose, file_of(directory, "token"));
  return api;
}

HttpResult attempt(HttpClient& http, const ApiServer& api, const std::string& path,
                   std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.url = api.base_url + path;
  request.headers = {{"Accept", "application/json"},
                     {"User-Agent", std::string(kProgramName) + "/" + std::string(kVersion)},
                     {"Authorization", "Bearer " + api.token}};
  const WipeOnExit wipe_header(request.headers.back().second);
  request.trust = api.trust;
  request.connect_timeout = std::min(timeout, kMaxConnectTimeout);
  request.total_timeout = timeout;
  request.max_body_bytes = kMaxObjectBytes;
  return http.send(request);
}

std::chrono::milliseconds left(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               std::chrono::steady_clock::now());
}

std::string get(HttpClient& http, const ApiServer& api, const std::string& path,
                std::chrono::milliseconds timeout, std::string_view purpose) {
  Redactor redactor;
  redactor.add_secret(api.token);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto result = attempt(http, api, path, std::max(left(deadline), std::chrono::milliseconds{1}));
    if (const auto* error = std::get_if<TransportError>(&result)) {
      throw unreachable(*error, api, timeout, purpose, redactor);
    }
    auto& response = std::get<HttpResponse>(result);
    if (response.status == 200) {
      return std::move(response.body);
    }
    // A request the API server shed is worth one more try if the wait fits the deadline.
    const auto wait = retry_after(response);
    if (!wait || *wait >= left(deadline)) {
      throw refused(response, api, purpose, redactor);
    }
    std::this_thread::sleep_for(*wait);
  }
}

}  // namespace qcp::kube

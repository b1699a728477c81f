#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/kube/api_server.hpp"
#include "qcp/kube/namespace.hpp"
#include "qcp/kube/server_clock.hpp"

namespace qcp::kube {

struct ApiRequest {
  std::string method = "GET";
  std::string path;  // with its query: "/api/v1/serviceaccounts?limit=500"
  std::string body;  // JSON (may hold a secret: a Secret's data)
  std::string content_type = "application/json";
  std::chrono::milliseconds timeout{30000};
};

struct ApiResponse {
  long status = 0;
  std::string body;
};

// A Status object: how the API server answers every error but APF's plain-text 429 (kube-api
// README, "Envelope"; 04e, 05b, 05d, 11a, 11b).
struct ApiStatus {
  long code = 0;
  std::string reason;  // "NotFound", "Conflict", "AlreadyExists", "Expired", "Forbidden", ...
  std::string message;
};
std::optional<ApiStatus> parse_status(std::string_view body);

// The API server as client-go's rest client talks to it: a bearer token (re-read from its file
// each minute, as the kubelet rotates a projected token: kube-api/12) or a client certificate,
// JSON in and out, a 429 waited out when its Retry-After fits the call's timeout (kube-api/11d),
// nothing followed. Messages start with `purpose` and never carry the token. Thread-safe.
class ApiClient {
 public:
  ApiClient(HttpClient& http, ApiServer server, const Environment& env, const Clock& clock,
            std::string purpose);

  // One call: any HTTP answer is returned for the caller to read. Throws Failure
  // (kLookupFailed) when no answer comes (unreachable, TLS, timeout).
  ApiResponse call(const ApiRequest& request);
  // A watch: each line of a 200 answer goes to on_line (false ends it) as it arrives; returns
  // the answer (a 200 whose stream ended, or an error answer with its body). keep_going is
  // asked about once a second: false ends it at once. Throws as call() does; a stream that
  // ends early (a dropped connection) is an ordinary end.
  ApiResponse watch(const ApiRequest& request,
                    const std::function<bool(std::string_view line)>& on_line,
                    const std::function<bool()>& keep_going);

  // Every call but a GET asks `may_write` first, also before a retry, and is refused (Failure)
  // without being sent when it says no: a leader that lost its lease stops writing at once.
  // Set before the client is shared.
  void fence_writes(std::function<bool()> may_write) { may_write_ = std::move(may_write); }

  // A non-success answer as a one-line Failure: the API server's own words, what it means.
  [[nodiscard]] Failure refused(const ApiResponse& response) const;
  // The API server's clock, as its answers' Date says (ServerClock): what a Secret's expiry
  // is stamped with and read back on.
  [[nodiscard]] std::chrono::system_clock::time_point server_now() const {
    return server_clock_.now(clock_.now());
  }
  [[nodiscard]] const ApiServer& server() const { return server_; }
  [[nodiscard]] const Redactor& redactor() const { return redactor_; }

 private:
  HttpRequest http_request(const ApiRequest& request, std::chrono::milliseconds timeout);
  std::string current_token();
  [[nodiscard]] Failure unreachable(const TransportError& error,
                                    std::chrono::milliseconds timeout) const;

  HttpClient& http_;
  ApiServer server_;
  Environment env_;
  const Clock& clock_;
  std::string purpose_;
  std::function<bool()> may_write_;
  mutable std::mutex mutex_;  // guards the token and the redactor's list
  std::optional<std::chrono::steady_clock::time_point> token_read_at_;
  Redactor redactor_;
  ServerClock server_clock_;
};

}  // namespace qcp::kube

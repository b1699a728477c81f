#include "qcp/kube/api_client.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <variant>

#include "qcp/core/duration.hpp"
#include "qcp/kube/namespace.hpp"
#include "qcp/version.hpp"

namespace qcp::kube {
namespace {

// A Secret or ServiceAccount is a few KiB; a LIST page of 500 service accounts ~1 MiB
// (kube-api/01c: ~1.9 KiB each with managedFields).
constexpr std::size_t kMaxAnswerBytes = std::size_t{16} << 20;
// One watch event is one object (kube-api/02c); a line past this is no event of ours.
constexpr std::size_t kMaxWatchLineBytes = std::size_t{4} << 20;
constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};
// client-go's cached file token source re-reads the file after a minute.
constexpr std::chrono::seconds kTokenReread{60};

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

// The API server's own words: a Status object's message, else the body (APF's 429 is plain
// text, kube-api/11d).
std::string answer_words(const ApiResponse& response, const Redactor& redactor) {
  if (const auto status = parse_status(response.body); status && !status->message.empty()) {
    return redactor.scrub(status->message);
  }
  return response.body.empty() ? "an empty answer" : redactor.scrub(response.body, 200);
}

// Splits a stream into lines as it arrives, each bounded.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<bool(std::string_view)>& on_line) : on_line_(on_line) {}
  bool add(std::string_view chunk) {
    pending_.append(chunk);
    std::size_t start = 0;
    for (auto end = pending_.find('\n'); end != std::string::npos;
         end = pending_.find('\n', start)) {
      if (!on_line_(std::string_view(pending_).substr(start, end - start))) {
        return false;
      }
      start = end + 1;
    }
    pending_.erase(0, start);
    return pending_.size() <= kMaxWatchLineBytes;
  }

 private:
  const std::function<bool(std::string_view)>& on_line_;
  std::string pending_;
};

}  // namespace

std::optional<ApiStatus> parse_status(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  // Comparing a json to a string is false for any other type; value() would throw.
  if (!json.is_object() || !json.contains("kind") || json["kind"] != "Status") {
    // 401's bare {"message","reason","code"} (kube-api/11a) counts too.
    if (!json.is_object() || !json.contains("code") || !json.contains("reason")) {
      return std::nullopt;
    }
  }
  ApiStatus status;
  if (const auto code = json.find("code"); code != json.end() && code->is_number_integer()) {
    status.code = code->get<long>();
  }
  if (const auto reason = json.find("reason"); reason != json.end() && reason->is_string()) {
    status.reason = reason->get<std::string>();
  }
  if (const auto message = json.find("message"); message != json.end() && message->is_string()) {
    status.message = message->get<std::string>();
  }
  return status;
}

ApiClient::ApiClient(HttpClient& http, ApiServer server, const Environment& env, const Clock& clock,
                     std::string purpose)
    : http_(http),
      server_(std::move(server)),
      env_(env),
      clock_(clock),
      purpose_(std::move(purpose)) {
  redactor_.add_secret(server_.token);
  if (!server_.token_file.empty()) {
    token_read_at_ = clock_.monotonic();
  }
}

std::string ApiClient::current_token() {
  const std::lock_guard lock(mutex_);
  if (token_read_at_ && clock_.monotonic() - *token_read_at_ >= kTokenReread) {
    // A rotated token: the new one is scrubbed too, the old one stays scrubbed.
    std::string fresh = read_bearer_token(env_, purpose_, server_.token_file);
    redactor_.add_secret(fresh);
    wipe(server_.token);
    server_.token = std::move(fresh);
    token_read_at_ = clock_.monotonic();
  }
  return server_.token;
}

HttpRequest ApiClient::http_request(const ApiRequest& request, std::chrono::milliseconds timeout) {
  HttpRequest http;
  http.method = request.method;
  http.url = server_.base_url + request.path;
  http.headers = {{"Accept", "application/json"},
                  {"User-Agent", std::string(kProgramName) + "/" + std::string(kVersion)}};
  if (!request.body.empty()) {
    http.headers.emplace_back("Content-Type", request.content_type);
  }
  if (std::string token = current_token(); !token.empty()) {
    http.headers.emplace_back("Authorization", "Bearer " + token);
    wipe(token);
  }
  http.body = request.body;
  http.client_certificate_pem = server_.client_certificate_pem;
  http.client_key_pem = server_.client_key_pem;
  http.trust = server_.trust;
  http.connect_timeout = std::min(timeout, kMaxConnectTimeout);
  http.total_timeout = timeout;
  http.max_body_bytes = kMaxAnswerBytes;
  return http;
}

ApiResponse ApiClient::call(const ApiRequest& request) {
  const auto deadline = clock_.monotonic() + request.timeout;
  for (;;) {
    if (request.method != "GET" && may_write_ && !may_write_()) {
      throw Failure(ExitCode::kLookupFailed,
                    purpose_ + ": nothing written: this replica does not hold the leader lease");
    }
    const auto left = std::max(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.monotonic()),
        std::chrono::milliseconds{1});
    HttpRequest http = http_request(request, left);
    auto result = http_.send(http);
    for (auto& [name, value] : http.headers) {
      wipe(value);
    }
    wipe(http.body);
    if (const auto* error = std::get_if<TransportError>(&result)) {
      throw unreachable(*error, request.timeout);
    }
    auto& response = std::get<HttpResponse>(result);
    server_clock_.observe(response.date, clock_.now());
    // A request the API server shed is worth another try if the wait fits the deadline.
    const auto wait = retry_after(response);
    if (wait && clock_.monotonic() + *wait < deadline) {
      clock_.sleep_for(*wait);
      continue;
    }
    return {.status = response.status, .body = std::move(response.body)};
  }
}

ApiResponse ApiClient::watch(const ApiRequest& request,
                             const std::function<bool(std::string_view line)>& on_line,
                             const std::function<bool()>& keep_going) {
  HttpRequest http = http_request(request, request.timeout);
  LineSplitter lines(on_line);
  bool streaming = false;
  http.body_sink = [&lines, &streaming](std::string_view chunk) {
    streaming = true;
    return lines.add(chunk);
  };
  http.keep_going = keep_going;
  auto result = http_.send(http);
  for (auto& [name, value] : http.headers) {
    wipe(value);
  }
  if (const auto* error = std::get_if<TransportError>(&result)) {
    // The caller ending it, or the stream cut after it began: the watch is simply over.
    if (error->kind == TransportError::Kind::kAborted || streaming) {
      return {.status = 200, .body = {}};
    }
    throw unreachable(*error, request.timeout);
  }
  auto& response = std::get<HttpResponse>(result);
  return {.status = response.status, .body = std::move(response.body)};
}

Failure ApiClient::refused(const ApiResponse& response) const {
  const std::lock_guard lock(mutex_);
  const std::string message = answer_words(response, redactor_);
  const std::string code = "HTTP " + std::to_string(response.status);
  std::string text = purpose_ + ": the API server at " + server_.base_url;
  switch (response.status) {
    case 401:
      text += " did not accept this pod's service-account token (" + code + ": " + message + ")";
      break;
    case 403:
      text += " refused: " + message + " (" + code +
              "); the pod's service account needs a ClusterRole that allows it";
      break;
    case 429:
      text += " is shedding load (" + code + ": " + message + "); try again later";
      break;
    default:
      text += " answered " + code + ": " + message;
  }
  return {ExitCode::kLookupFailed, text};
}

Failure ApiClient::unreachable(const TransportError& error,
                               std::chrono::milliseconds timeout) const {
  const std::lock_guard lock(mutex_);
  const std::string where = "the API server at " + server_.base_url;
  const std::string detail = redactor_.scrub(error.detail);
  std::string text = purpose_ + ": ";
  switch (error.kind) {
    case TransportError::Kind::kCertificate:
      text += "TLS certificate problem with " + where + " (trusted: only the cluster CA in " +
              server_.trust.source + "): " + detail;
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

}  // namespace qcp::kube
